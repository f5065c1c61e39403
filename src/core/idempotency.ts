/**
 * Safe retries of every write (issue 17): a write that carries an
 * idempotency key keeps its first result under (project, agent, key) in the
 * same transaction as the write itself, so it happened once or not at all. A
 * repeat with the same key and the same input gets that result back (the same
 * revision, the same lease token) and changes nothing; with other input it is
 * refused. A write that failed kept nothing, so its retry runs again. Keys
 * count for IDEMPOTENCY_WINDOW_MS; after that a key may be used afresh.
 */
import { createHash } from "node:crypto";
import { LedgerError } from "./errors.js";
import type { IdempotentWrite, KeyedWrite, Tx } from "./port.js";
import { isRuleResult, type RuleResult } from "./rule-data.js";
import type { StoredWorkOrder } from "./types.js";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
const PURGE_BATCH = 16;

interface Keyed {
  project: string;
  agent: string;
  idempotency_key?: string | undefined;
}

/** What identifies a request under its key (a different one with the same key is refused). */
export function requestHash(operation: string, input: Keyed): string {
  // The lease token is not part of a request's identity: the CLI and the MCP server send a remembered one, and
  // forget it when the write ends the lease, so the resend of a release would otherwise differ from the first.
  // Nor is the caller's work tree, which the door reads afresh for each attempt.
  const { idempotency_key: _k, agent: _a, role: _r, lease_token: _t, git: _g, ...request } = input as Keyed & Record<string, unknown>;
  return createHash("sha256").update(operation).update("\0").update(JSON.stringify(request)).digest("hex");
}

/** The key a store applying a write in one statement records it under (port.ts KeyedWrite), if it has one. */
export function keyedWrite(operation: string, input: Keyed): KeyedWrite | undefined {
  const key = input.idempotency_key;
  return key === undefined ? undefined : { agent: input.agent, key, operation, request_hash: requestHash(operation, input) };
}

/**
 * Runs `write` once per key: the first time for real, afterwards its recorded
 * result, passed through `replayed` when what it says may have stopped being
 * true (a claim's lease may have ended since).
 */
export async function once<T>(tx: Tx, operation: string, input: Keyed, write: () => Promise<T>, replayed?: (first: T | RuleResult<StoredWorkOrder>) => Promise<T>): Promise<T> {
  const key = input.idempotency_key;
  if (key === undefined) return write();
  const hash = requestHash(operation, input);
  const seen = await recorded(tx, operation, input, (w) => w.request_hash === hash);
  if (seen !== undefined) {
    const first = seen as T | RuleResult<StoredWorkOrder>;
    if (replayed) return replayed(first);
    if (isRuleResult(first)) throw new Error(`${operation}: a key's record from a one-statement write needs its operation's replay`);
    return first;
  }
  const result = await write();
  await tx.putIdempotentWrite({ project: input.project, agent: input.agent, key, operation, request_hash: hash, result: JSON.stringify(result), created_at: tx.now() });
  // Each new record clears a few past their window, so the table stays about one window's writes.
  await tx.purgeIdempotentWrites(new Date(Date.parse(tx.now()) - IDEMPOTENCY_WINDOW_MS).toISOString(), PURGE_BATCH);
  return result;
}

/**
 * The first result recorded under the input's key for `operation` within the
 * window, when `same` says the record is of this request; undefined when the
 * key is unused. A key used for another request is refused.
 */
export async function recorded(tx: Tx, operation: string, input: Keyed, same: (w: IdempotentWrite) => boolean): Promise<unknown> {
  const key = input.idempotency_key;
  if (key === undefined) return undefined;
  const seen = await tx.getIdempotentWrite(input.project, input.agent, key);
  if (!seen || Date.parse(seen.created_at) <= Date.parse(tx.now()) - IDEMPOTENCY_WINDOW_MS) return undefined;
  if (seen.operation === operation && same(seen)) return JSON.parse(seen.result) as unknown;
  throw new LedgerError(
    "IDEMPOTENCY_MISMATCH",
    `idempotency key ${JSON.stringify(key)} was already used by ${input.agent} at ${seen.created_at} for ${seen.operation === operation ? "a different request" : `another kind of write (${seen.operation})`}; nothing was written`,
    {
      hint: "use a new key for a new write; repeat a key only to retry exactly the same request",
      details: { project: input.project, idempotency_key: key, operation: seen.operation, at: seen.created_at },
    },
  );
}
