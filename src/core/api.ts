/**
 * What every door needs from a ledger. The local `Ledger` provides it over a
 * store; the remote client provides it over HTTP with the same inputs,
 * results and error codes.
 */
import type { Ledger } from "./ledger.js";

export type LedgerApi = Pick<
  Ledger,
  | "info"
  | "knowsCaller"
  | "whoami"
  | "follow"
  | "health"
  | "createProject"
  | "projects"
  | "create"
  | "get"
  | "list"
  | "findUnclaimed"
  | "claim"
  | "renew"
  | "renewAll"
  | "spend"
  | "attempts"
  | "report"
  | "release"
  | "update"
  | "addNote"
  | "recordVerification"
  | "verifyCommand"
  | "holding"
  | "recordCheckpoint"
  | "checkCommits"
  | "webhookAdd"
  | "webhookList"
  | "webhookPause"
  | "webhookResume"
  | "webhookTest"
  | "webhookDelete"
  | "setPolicy"
  | "contextPut"
  | "contextPull"
  | "contextHistory"
  | "history"
  | "events"
  | "lastEventSeq"
  | "close"
>;
