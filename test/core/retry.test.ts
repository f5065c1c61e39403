/**
 * What a caller that cannot retry by itself (the MCP server over its own
 * store) sends again while the ledger is UNAVAILABLE: reads, and writes with
 * an idempotency key, always the same key, so a write that committed before
 * its answer was lost is not applied twice.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LedgerError } from "../../src/core/errors.ts";
import { OPERATIONS, type Operation } from "../../src/core/operations.ts";
import { patiently } from "../../src/core/retry.ts";

const op = (name: string): Operation => OPERATIONS.find((o) => o.name === name)!;
const unavailable = () => new LedgerError("UNAVAILABLE", "no primary right now");

/** A call that fails `failures` times with `error()`, recording each input it was given. */
function flaky(failures: number, error: () => Error = unavailable) {
  const seen: Record<string, unknown>[] = [];
  const call = async (input: Record<string, unknown>) => {
    seen.push(input);
    if (seen.length <= failures) throw error();
    return "done";
  };
  return { seen, call };
}

describe("patiently", () => {
  it("resends a keyed write with one key of its own until the ledger answers", async () => {
    const { seen, call } = flaky(2);
    assert.equal(await patiently(op("addNote"), { project: "p", id: 1, body: "x" }, call), "done");
    assert.equal(seen.length, 3);
    assert.match(String(seen[0]!.idempotency_key), /^auto-/);
    assert.ok(
      seen.every((s) => s.idempotency_key === seen[0]!.idempotency_key),
      "the same key every time",
    );
  });

  it("keeps the caller's key, and resends reads", async () => {
    const keyed = flaky(1);
    await patiently(op("claim"), { project: "p", next: true, idempotency_key: "mine" }, keyed.call);
    assert.deepEqual(
      keyed.seen.map((s) => s.idempotency_key),
      ["mine", "mine"],
    );
    const read = flaky(1);
    await patiently(op("get"), { project: "p", id: 1 }, read.call);
    assert.equal(read.seen.length, 2);
  });

  it("does not resend a write that takes no key, nor after any other error", async () => {
    const plain = flaky(1);
    await assert.rejects(patiently(op("createProject"), { name: "p" }, plain.call), /no primary/);
    assert.equal(plain.seen.length, 1);
    const refused = flaky(1, () => new LedgerError("LEASE_HELD", "someone else"));
    await assert.rejects(patiently(op("claim"), { project: "p", id: 1 }, refused.call), /someone else/);
    assert.equal(refused.seen.length, 1);
  });
});
