/** Which ledger a CLI command talks to: remote (WORKLEDGER_URL), or the local store. */
import type { LedgerApi } from "../../core/api.js";
import { LedgerError } from "../../core/errors.js";
import type { Ledger, LedgerOptions } from "../../core/ledger.js";
import { openLedger } from "../../index.js";
import { RemoteLedger } from "../../storage/remote/client.js";

export const remoteUrl = () => process.env.WORKLEDGER_URL || undefined;

/** Where the local store is: a SQLite file, or PostgreSQL when a database URL is given. */
export interface Where {
  db: string | undefined;
  databaseUrl: string | undefined;
}

export async function connect(where: Where): Promise<LedgerApi> {
  const url = remoteUrl();
  if (url === undefined) return openLocal(where);
  const token = process.env.WORKLEDGER_TOKEN;
  if (!token) {
    throw new LedgerError("UNAUTHORIZED", "WORKLEDGER_URL is set but WORKLEDGER_TOKEN is not", {
      hint: "ask an admin for a token (workledger token create --agent NAME --role agent) and export WORKLEDGER_TOKEN",
    });
  }
  return new RemoteLedger(url, token);
}

/** The store on this machine (serve and token administration always use it). */
export function openLocal({ db, databaseUrl }: Where, opts: LedgerOptions = {}): Promise<Ledger> {
  return openLedger({ ...(databaseUrl !== undefined ? { databaseUrl } : db !== undefined ? { db } : {}), ...opts });
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
