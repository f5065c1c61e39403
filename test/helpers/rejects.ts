/** Awaits a ledger call that must fail with `code` (and a message matching `message`, when given), and returns its error. */
import assert from "node:assert/strict";
import { LedgerError, type ErrorCode } from "../../src/core/errors.ts";

export async function rejects(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<LedgerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LedgerError, `expected LedgerError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}
