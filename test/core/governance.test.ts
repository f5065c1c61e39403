/** The pure parts of issue 16: prices, attribution of usage to attempts by time, and reading a Claude Code transcript. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attribute } from "../../src/core/attribution.ts";
import { costOf, priceOf } from "../../src/core/pricing.ts";
import type { Attempt } from "../../src/core/types.ts";
import { byModel, parseTranscript } from "../../src/exec/transcript.ts";

describe("prices", () => {
  it("the longest matching prefix wins, a project's table before the built-in one, unknown models have no price", () => {
    assert.equal(priceOf("claude-opus-4-5-20251101", null)?.input, 5);
    assert.equal(priceOf("claude-opus-4-1-20250805", null)?.input, 15);
    assert.equal(priceOf("claude-sonnet-4-5", { "claude-sonnet": { input: 9, output: 9 } })?.input, 9);
    assert.equal(priceOf("llama-3", null), null);
    assert.equal(priceOf(null, null), null);
  });

  it("cost splits input into plain, cache writes and cache reads, rounded to micro-dollars", () => {
    const p = { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 };
    assert.equal(costOf({ tokens_in: 1_000_000, tokens_out: 0, cache_read_tokens: 0, cache_write_tokens: 0 }, p), 3);
    assert.equal(costOf({ tokens_in: 3, tokens_out: 0, cache_read_tokens: 3, cache_write_tokens: 0 }, p), 0.000001);
    assert.equal(costOf({ tokens_in: 1, tokens_out: 1, cache_read_tokens: 0, cache_write_tokens: 0 }, null), null);
  });
});

describe("attribution of usage to attempts", () => {
  const attempt = (wo: number, token: number, started_at: string, ended_at: string | null): Attempt => ({
    project: "p",
    wo,
    token,
    agent: "a",
    started_at,
    ended_at,
    outcome: ended_at ? "done" : null,
  });
  const a1 = attempt(1, 1, "2026-01-01T10:00:00.000Z", "2026-01-01T11:00:00.000Z");
  const a2 = attempt(2, 1, "2026-01-01T12:00:00.000Z", null);
  const at = (t: string) => ({ at: `2026-01-01T${t}:00.000Z` });

  it("during an attempt: that attempt's; between two: the earlier one's; before the first: the first one's", () => {
    const got = attribute([at("09:00"), at("10:30"), at("11:30"), at("12:30")], [a2, a1]);
    assert.deepEqual(got.get(a1), [at("09:00"), at("10:30"), at("11:30")]);
    assert.deepEqual(got.get(a2), [at("12:30")]);
  });

  it("a later attempt never takes usage an earlier one had", () => {
    const before = attribute([at("11:30")], [a1]);
    const after = attribute([at("11:30")], [a1, a2]);
    assert.deepEqual(before.get(a1), after.get(a1));
    assert.equal(after.get(a2), undefined);
  });

  it("without attempts nothing is attributed", () => {
    assert.equal(attribute([at("10:00")], []).size, 0);
  });
});

describe("Claude Code transcripts", () => {
  it("counts each message id once (its largest figures), skips junk, takes the session id, and sums per model", () => {
    const line = (o: object) => JSON.stringify(o);
    const msg = (id: string, model: string, output: number) =>
      line({
        type: "assistant",
        sessionId: "s9",
        timestamp: "2026-01-01T10:00:00Z",
        message: { id, model, usage: { input_tokens: 2, cache_read_input_tokens: 10, output_tokens: output } },
      });
    const t = parseTranscript(
      [
        line({ type: "summary" }),
        msg("a", "m1", 1),
        msg("a", "m1", 5),
        "{broken",
        msg("b", "m2", 3),
        line({ type: "assistant", message: { id: "c", model: "<synthetic>", usage: {} } }),
      ].join("\n"),
    );
    assert.equal(t.session, "s9");
    assert.equal(t.usage.length, 2);
    assert.deepEqual(byModel(t.usage).get("m1"), { tokens_in: 12, tokens_out: 5, cache_read_tokens: 10, cache_write_tokens: 0 });
    assert.equal(t.usage[0]!.at, "2026-01-01T10:00:00.000Z");
  });
});
