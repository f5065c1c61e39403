/** Awaits a ledger call that must fail with `code`, and returns its error. */
import assert from "node:assert/strict";
import { LedgerError, type ErrorCode } from "../../src/core/errors.ts";

export async function rejects(p: Promise<unknown>, code: ErrorCode): Promise<LedgerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LedgerError, `expected LedgerError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}
