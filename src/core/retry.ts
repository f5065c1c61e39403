/**
 * What is safe to send again, and for how long to keep trying. A write that
 * can carry an idempotency key gets one when the caller gave none, so a write
 * that committed before its answer was lost is answered from the key instead
 * of applied twice; reads are always safe. The ledger is UNAVAILABLE for
 * seconds while PostgreSQL fails over: callers that cannot retry by
 * themselves (a model's tool call) are answered once it is back.
 */
import { randomUUID } from "node:crypto";
import { isLedgerError } from "./errors.js";
import { inputFields, type Operation } from "./operations.js";

/** How long an unavailable ledger is waited for before the caller hears UNAVAILABLE. */
export const PATIENCE_MS = 20_000;
const DELAYS_MS = [100, 300, 900, 1000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `op` takes an idempotency key. */
export const takesKey = (op: Operation): boolean => "idempotency_key" in inputFields(op);

/** The input with a key of its own when `op` takes one and none was given. */
export function withKey<I extends Record<string, unknown>>(op: Operation, input: I): I {
  return takesKey(op) && input.idempotency_key === undefined ? { ...input, idempotency_key: `auto-${randomUUID()}` } : input;
}

/** Calls `call`; when it may be repeated, again on UNAVAILABLE, with backoff, for up to PATIENCE_MS. */
export async function patiently<T>(op: Operation, input: Record<string, unknown>, call: (input: Record<string, unknown>) => Promise<T>): Promise<T> {
  if (op.access !== "read" && !takesKey(op)) return call(input);
  const sent = withKey(op, input);
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(sent);
    } catch (e) {
      const wait = DELAYS_MS[Math.min(attempt, DELAYS_MS.length - 1)]!;
      if (!isLedgerError(e) || e.code !== "UNAVAILABLE" || Date.now() - started + wait > PATIENCE_MS) throw e;
      await sleep(wait);
    }
  }
}
