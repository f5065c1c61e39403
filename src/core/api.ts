/**
 * What every door needs from a ledger: the operations of the table
 * (operations.ts), and what serves them. The local `Ledger` provides it over
 * a store; the remote client provides it over HTTP with the same inputs,
 * results and error codes.
 */
import type { Ledger } from "./ledger.js";
import type { LedgerOperation } from "./operations.js";

export type LedgerApi = Pick<Ledger, LedgerOperation | "info" | "knowsCaller" | "whoami" | "follow" | "health" | "events" | "lastEventSeq" | "close">;
