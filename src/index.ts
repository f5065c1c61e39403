/** The library door: `import { openLedger } from "workledger"`. */
import { homedir } from "node:os";
import { join } from "node:path";
import { Ledger, type LedgerOptions } from "./core/ledger.js";
import { openSqliteStore } from "./storage/sqlite/store.js";

export { Ledger } from "./core/ledger.js";
export type { ClaimResult, ContextPull, Health, VerificationResult, WorkOrderWithNotes } from "./core/ledger.js";
export { LedgerError, ERROR_CODES, type ErrorCode, type ErrorBody } from "./core/errors.js";
export type { Inputs } from "./core/schemas.js";
export * from "./core/types.js";
export type { PulledContext } from "./core/context.js";

export const DEFAULT_DB = join(homedir(), ".workledger", "ledger.db");

export interface OpenOptions {
  /** SQLite ledger file; defaults to WORKLEDGER_DB or ~/.workledger/ledger.db. */
  db?: string;
  /** Injectable clock (ms since epoch), for tests and simulations. */
  clock?: () => number;
  busyTimeoutMs?: number;
  /** Called with the events of each committed change (metrics). */
  onEvents?: LedgerOptions["onEvents"];
}

export function openLedger(opts: OpenOptions = {}): Ledger {
  const path = opts.db ?? process.env.WORKLEDGER_DB ?? DEFAULT_DB;
  const store = openSqliteStore({ path, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.busyTimeoutMs ? { busyTimeoutMs: opts.busyTimeoutMs } : {}) });
  return new Ledger(store, opts.onEvents ? { onEvents: opts.onEvents } : {});
}
