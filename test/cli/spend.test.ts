/** spend, attempts and report through the real CLI (issue 16): transcripts read once, bad figures refused, reports that add up. */
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { openLedger } from "../../src/index.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { dumpSqlite as dump } from "../helpers/db.ts";

/** A Claude Code transcript line: an assistant message with usage (streamed messages repeat their id). */
const assistant = (id: string, at: string, usage: Record<string, number>, model = "claude-sonnet-4-5-20250929") =>
  JSON.stringify({ type: "assistant", sessionId: "sess-1", timestamp: at, message: { id, model, role: "assistant", usage } }) + "\n";
const user = (at: string) => JSON.stringify({ type: "user", sessionId: "sess-1", timestamp: at, message: { role: "user", content: "go" } }) + "\n";

describe("spend from the CLI", () => {
  let s: Sandbox;
  const as = (agent: string) => ({ WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: "shop" });
  before(() => {
    s = sandbox();
    assert.equal(s.run(["create", "--title", "one"], { env: as("obs") }).code, 0);
    assert.equal(s.run(["claim", "--id", "1"], { env: as("ann") }).code, 0);
  });
  after(() => s.cleanup());

  it("--from-transcript records a transcript's usage once; run again it adds nothing; grown, only the new part", () => {
    const file = join(s.dir, "session.jsonl");
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    writeFileSync(
      file,
      user(at(0)) +
        assistant("m1", at(1), { input_tokens: 10, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0, output_tokens: 50 }) +
        assistant("m1", at(2), { input_tokens: 10, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0, output_tokens: 50 }) +
        "not json at all\n" +
        assistant("m2", at(3), { input_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000, output_tokens: 200 }),
    );
    const first = s.run(["spend", "--id", "1", "--from-transcript", file, "--json"], { env: as("ann") });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.source, "transcript:sess-1");
    assert.equal(first.json.recorded.length, 1);
    const rec = first.json.recorded[0].spend;
    // m1 counted once: 1010 + 1005 input (cache included), 250 output
    assert.deepEqual([rec.tokens_in, rec.tokens_out, rec.cache_write_tokens, rec.cache_read_tokens, rec.model], [2015, 250, 1000, 1000, "claude-sonnet-4-5-20250929"]);
    // 15 plain at $3/M, 1000 cache writes at $3.75/M, 1000 cache reads at $0.30/M, 250 out at $15/M
    assert.equal(rec.cost_usd, (15 * 3 + 1000 * 3.75 + 1000 * 0.3 + 250 * 15) / 1e6);

    const again = s.run(["spend", "--id", "1", "--from-transcript", file, "--json"], { env: as("ann") });
    assert.equal(again.json.recorded[0].spend, null);
    // The session-end hook's form: the hook's JSON on stdin names the transcript.
    const hook = s.run(["spend", "--from-transcript", "-", "--json"], { env: as("ann"), input: JSON.stringify({ session_id: "sess-1", transcript_path: file }) });
    assert.equal(hook.code, 0, hook.stderr);
    assert.equal(hook.json.recorded[0].spend, null);

    appendFileSync(file, assistant("m3", at(4), { input_tokens: 100, output_tokens: 7 }));
    const grown = s.run(["spend", "--from-transcript", file, "--json"], { env: as("ann") });
    assert.deepEqual([grown.json.recorded[0].spend.tokens_in, grown.json.recorded[0].spend.tokens_out], [100, 7]);
    const wo = s.run(["get", "--id", "1", "--json"], { env: as("ann") }).json;
    assert.deepEqual([wo.spend.tokens_in, wo.spend.tokens_out], [2115, 257]);
    const human = s.run(["spend", "--from-transcript", file], { env: as("ann") });
    assert.match(human.stdout, /nothing new to record for WO-1/);
  });

  it("bad figures are refused with exit 2 and the ledger is unchanged", () => {
    const snapshot = dump(s.db);
    for (const bad of [
      ["--tokens-in", "-5"],
      ["--tokens-in", "abc"],
      ["--tokens-in", "1.5"],
      ["--cost-usd", "NaN"],
      ["--cost-usd", "-1"],
      ["--cost-usd", "99999999"],
      ["--tokens-out", "100000000000000"],
      ["--phase", "DROP TABLE"],
      ["--tokens-in", "5", "--cache-read-tokens", "6"],
      [],
    ]) {
      const r = s.run(["spend", "--id", "1", ...bad, "--json"], { env: as("ann") });
      assert.equal(r.code, 2, `${bad.join(" ")}: ${r.stdout}`);
      assert.equal(r.json.error.code, "VALIDATION");
    }
    const both = s.run(["spend", "--id", "1", "--tokens-in", "5", "--from-transcript", join(s.dir, "session.jsonl")], { env: as("ann") });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /leave out --tokens-in/);
    assert.equal(s.run(["spend", "--id", "1", "--from-transcript", join(s.dir, "missing.jsonl")], { env: as("ann") }).code, 2);
    assert.equal(dump(s.db), snapshot);
  });

  it("attempts lists who tried, how it ended and what it cost", () => {
    const r = s.run(["attempts", "--id", "1"], { env: as("ann") });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1\s+ann\s+.*running/);
  });

  it("release --tokens-in … records the attempt's spend with the release", () => {
    assert.equal(s.run(["create", "--title", "two"], { env: as("obs") }).code, 0);
    assert.equal(s.run(["claim", "--id", "2"], { env: as("ann") }).code, 0);
    const r = s.run(["release", "--id", "2", "--status", "done", "--phase", "review", "--cost-usd", "0.5", "--tokens-out", "9", "--json"], { env: as("ann") });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.json.status, r.json.spend.usd, r.json.spend.tokens_out], ["done", 0.5, 9]);
    const [a] = s.run(["attempts", "--id", "2", "--json"], { env: as("ann") }).json;
    assert.deepEqual([a.outcome, a.spend.usd], ["done", 0.5]);
  });
});

describe("report --json on a seeded ledger", () => {
  let s: Sandbox;
  before(() => {
    s = sandbox();
  });
  after(() => s.cleanup());

  it("gives the figures computed here straight from the tables", async () => {
    // Seed: 12 WOs, three agents, some enriched, some done, some expired or released.
    const l = await openLedger({ db: s.db });
    const P = "seed";
    await l.create({ project: P, agent: "obs", items: Array.from({ length: 12 }, (_, i) => ({ title: `w${i}`, labels: i % 3 ? ["api"] : [] })) });
    const agents = ["ann", "bob", "cy"];
    for (let i = 1; i <= 12; i++) {
      const agent = agents[i % 3]!;
      await l.claim({ project: P, agent, id: i });
      if (i % 2) await l.spend({ project: P, agent, id: i, phase: "enrich", model: "claude-haiku-4-5", tokens_in: 1000 * i, tokens_out: 10 * i });
      await l.spend({ project: P, agent, id: i, cost_usd: 0.01 * i, tokens_out: i });
      if (i % 4 === 0) await l.release({ project: P, agent, id: i });
      else if (i % 5 === 0) await l.release({ project: P, agent, id: i, status: "blocked", note: "stuck" });
      else await l.release({ project: P, agent, id: i, status: "done" });
      if (i % 4 === 0) {
        await l.claim({ project: P, agent: "cy", id: i });
        await l.release({ project: P, agent: "cy", id: i, status: "done" });
      }
    }
    await l.close();

    const r = s.run(["report", "-p", P, "--by", "agent", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const db = new Database(s.db, { readonly: true });
    const expected = db
      .prepare(
        `SELECT a.agent AS key, count(*) AS attempts,
           count(DISTINCT CASE WHEN a.outcome = 'done' THEN a.wo END) AS done_wos,
           (SELECT coalesce(sum(cost_micros), 0) FROM spend s WHERE s.project = a.project AND s.agent = a.agent) AS micros
         FROM attempts a WHERE a.project = ? GROUP BY a.agent ORDER BY a.agent`,
      )
      .all(P) as { key: string; attempts: number; done_wos: number; micros: number }[];
    const enrichedMicros = (db.prepare("SELECT sum(cost_micros) AS m FROM spend WHERE project = ? AND wo IN (SELECT wo FROM spend WHERE phase = 'enrich')").get(P) as { m: number })
      .m;
    const enrichedDone = (
      db.prepare("SELECT count(DISTINCT wo) AS n FROM attempts WHERE project = ? AND outcome = 'done' AND wo IN (SELECT wo FROM spend WHERE phase = 'enrich')").get(P) as {
        n: number;
      }
    ).n;
    db.close();
    const got = [...r.json.rows].sort((a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key));
    assert.deepEqual(
      got.map((x: { key: string; attempts: number; done_wos: number; usd: number; cost_per_done_wo: number | null }) => [x.key, x.attempts, x.done_wos, x.usd]),
      expected.map((e) => [e.key, e.attempts, e.done_wos, e.micros / 1e6]),
    );
    for (const x of got) assert.equal(x.cost_per_done_wo, x.done_wos ? Math.round((x.usd * 1e6) / x.done_wos) / 1e6 : null);
    assert.equal(r.json.enrichment.with_enrich.usd, enrichedMicros / 1e6);
    assert.equal(r.json.enrichment.with_enrich.done_wos, enrichedDone);
    assert.equal(r.json.totals.attempts, 15);
    const csv = s.run(["report", "-p", P, "--csv"]);
    assert.equal(csv.stdout.trim().split("\n").length, 1 + got.length + 3 + r.json.enrichment.by_model.length);
  });
});
