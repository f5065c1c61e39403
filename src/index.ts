/** The library door: `const ledger = await openLedger()`. */
import { homedir } from "node:os";
import { join } from "node:path";
import { Ledger, type LedgerOptions } from "./core/ledger.js";
import { openSqliteStore } from "./storage/sqlite/store.js";

export { Ledger } from "./core/ledger.js";
export type { ClaimResult, ContextPull, Health, LedgerOptions, VerificationResult, WorkOrderWithNotes } from "./core/ledger.js";
export type { LedgerApi } from "./core/api.js";
export { LedgerError, ERROR_CODES, type ErrorCode, type ErrorBody } from "./core/errors.js";
export type { Inputs } from "./core/schemas.js";
export * from "./core/types.js";
export type { PulledContext } from "./core/context.js";
export { RemoteLedger } from "./storage/remote/client.js";

export const DEFAULT_DB = join(homedir(), ".workledger", "ledger.db");

export interface OpenOptions extends LedgerOptions {
  /** SQLite ledger file; defaults to WORKLEDGER_DB or ~/.workledger/ledger.db. */
  db?: string;
  /** PostgreSQL instead of SQLite (default: WORKLEDGER_DATABASE_URL when set). */
  databaseUrl?: string;
  /** PostgreSQL schema to use (created if missing). */
  schema?: string;
  /** Test hook: an injectable clock (ms since epoch). On PostgreSQL, production time is always the database's. */
  clock?: () => number;
  /** SQLite: how long a writer waits for the file lock (ms). */
  busyTimeoutMs?: number;
}

/** Opens the ledger: PostgreSQL when a database URL is configured, otherwise the embedded SQLite file. */
export async function openLedger(opts: OpenOptions = {}): Promise<Ledger> {
  const ledgerOpts: LedgerOptions = opts.onEvents ? { onEvents: opts.onEvents } : {};
  const databaseUrl = opts.databaseUrl ?? (opts.db === undefined ? process.env.WORKLEDGER_DATABASE_URL || undefined : undefined);
  if (databaseUrl !== undefined) {
    // Loaded on demand: the SQLite-only CLI path never pays for the pg driver.
    const { openPostgresStore } = await import("./storage/postgres/store.js");
    const store = await openPostgresStore({ connectionString: databaseUrl, ...(opts.schema ? { schema: opts.schema } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
    return new Ledger(store, ledgerOpts);
  }
  const path = opts.db ?? process.env.WORKLEDGER_DB ?? DEFAULT_DB;
  const store = openSqliteStore({ path, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.busyTimeoutMs ? { busyTimeoutMs: opts.busyTimeoutMs } : {}) });
  return new Ledger(store, ledgerOpts);
}
