/** Which ledger a CLI command talks to: through the composition point, from the flags and the environment. */
import type { LedgerApi } from "../../core/api.js";
import type { Ledger, LedgerOptions } from "../../core/ledger.js";
import { connectLedger, openLedger } from "../../index.js";

/** Where the local store is: a SQLite file, or PostgreSQL when a database URL is given. */
export interface Where {
  db: string | undefined;
  databaseUrl: string | undefined;
}

const local = ({ db, databaseUrl }: Where) => (databaseUrl !== undefined ? { databaseUrl } : db !== undefined ? { db } : {});

/** The ledger of this configuration: remote when WORKLEDGER_URL is set (unless `localOnly`: a repository's pinned ledger), else the local store. */
export function connect(where: Where & { localOnly?: boolean }): Promise<LedgerApi> {
  return where.localOnly ? openLedger(local(where)) : connectLedger(local(where));
}

/** The store on this machine (serve and token administration always use it). */
export function openLocal(where: Where, opts: LedgerOptions = {}): Promise<Ledger> {
  return openLedger({ ...local(where), ...opts });
}

/** Runs fn on the local store and closes it afterwards, however fn ends. */
export async function withLocal<T>(where: Where, fn: (ledger: Ledger) => Promise<T>, opts: LedgerOptions = {}): Promise<T> {
  const ledger = await openLocal(where, opts);
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}
