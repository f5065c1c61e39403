/** The library door: `const ledger = await openLedger()`. */
import { homedir } from "node:os";
import { join } from "node:path";
import { Ledger, type LedgerOptions } from "./core/ledger.js";
import type { LedgerApi } from "./core/api.js";
import { LedgerError } from "./core/errors.js";
import { TTL_MS as TOKEN_CACHE_MS } from "./core/token-cache.js";
import { RemoteLedger } from "./remote/client.js";
import { resolveHost } from "./net/outbound.js";
import { openSqliteStore } from "./storage/sqlite/store.js";

export { Ledger } from "./core/ledger.js";
export type { ClaimResult, ContextPull, Health, LedgerOptions, VerificationResult, WorkOrderWithNotes } from "./core/ledger.js";
export type { LedgerApi } from "./core/api.js";
export { LedgerError, ERROR_CODES, type ErrorCode, type ErrorBody } from "./core/errors.js";
export type { Inputs } from "./core/schemas.js";
export * from "./core/types.js";
export type { PulledContext } from "./core/freshness.js";
export { RemoteLedger };

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
  // Webhook URLs are judged by every address their host resolves to (net/outbound.ts).
  const ledgerOpts: LedgerOptions = { resolveHost: opts.resolveHost ?? resolveHost, ...(opts.onEvents ? { onEvents: opts.onEvents } : {}) };
  const databaseUrl = opts.databaseUrl ?? (opts.db === undefined ? process.env.WORKLEDGER_DATABASE_URL || undefined : undefined);
  if (databaseUrl !== undefined) {
    // Loaded on demand: the SQLite-only CLI path never pays for the pg driver.
    const { openPostgresStore } = await import("./storage/postgres/store.js");
    const store = await openPostgresStore({ connectionString: databaseUrl, ...(opts.schema ? { schema: opts.schema } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
    // A token lookup is a network round trip here: remember live tokens for a moment (core/token-cache.ts).
    return new Ledger(store, { ...ledgerOpts, tokenCacheMs: TOKEN_CACHE_MS });
  }
  const path = opts.db ?? process.env.WORKLEDGER_DB ?? DEFAULT_DB;
  const store = openSqliteStore({ path, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.busyTimeoutMs ? { busyTimeoutMs: opts.busyTimeoutMs } : {}) });
  return new Ledger(store, ledgerOpts);
}

export interface ConnectOptions extends OpenOptions {
  /** A `workledger serve` to talk to instead of a store (default: WORKLEDGER_URL), with its token (WORKLEDGER_TOKEN). */
  url?: string | undefined;
  token?: string | undefined;
}

/**
 * The composition point: configuration in, a ledger out. A server URL gives
 * the remote ledger (the server's token decides who the caller is),
 * otherwise the local store as openLedger opens it. No door asks which kind
 * it got; what differs is in the API (knowsCaller, whoami, follow).
 */
export async function connectLedger(opts: ConnectOptions = {}): Promise<LedgerApi> {
  const { url = process.env.WORKLEDGER_URL || undefined, token = process.env.WORKLEDGER_TOKEN, ...local } = opts;
  if (url === undefined) return openLedger(local);
  if (!token) {
    throw new LedgerError("UNAUTHORIZED", "WORKLEDGER_URL is set but WORKLEDGER_TOKEN is not", {
      hint: "ask an admin for a token (workledger token create --as-admin --agent NAME --role agent) and export WORKLEDGER_TOKEN",
    });
  }
  return new RemoteLedger(url, token);
}
