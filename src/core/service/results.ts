/** What the ledger's operations answer (types only). */
import type { WoContext } from "../context.js";
import type { ErrorBody } from "../errors.js";
import type { PulledContext } from "../freshness.js";
import type { StoreInfo } from "../port.js";
import type { SandboxKind } from "../sandbox.js";
import type { Parsed } from "../schemas.js";
import type { Attempt, Checkpoint, FileConflict, GitState, NewEvent, Note, SpendRecord, SpendTotals, WorkOrder } from "../types.js";

export type WorkOrderWithNotes = WorkOrder & { notes: Note[]; context: WoContext; checkpoints: Checkpoint[] };

/** A WO its caller holds, with the checkpoints made on it so far (oldest first). */
export type Held = WorkOrder & { lease: NonNullable<WorkOrder["lease"]>; checkpoints: Checkpoint[] };

export interface CheckpointResult {
  checkpoint: Checkpoint;
  work_order: WorkOrder;
  /** What the holder should look at in what it just checkpointed (files its last verification's command wrote). */
  warnings?: string[];
}

export type Unclaimed = WorkOrder & { file_conflicts: FileConflict[] };

export type ClaimResult = Unclaimed & { context: WoContext };

export interface ContextPull {
  project: string;
  verdict: "fresh" | "stale" | "none";
  entries: PulledContext[];
  /** With no entries: what to do instead. */
  hint?: string;
}

export interface VerificationResult {
  passed: boolean;
  /** The command's exit code (null: killed at its timeout) and how long it ran. */
  exit_code: number | null;
  duration_ms: number;
  /** The command that ran, the directory it ran in, and that work tree's git state. */
  command: string;
  dir: string | null;
  git: GitState | null;
  /** What it ran in (core/sandbox.ts). */
  sandbox: SandboxKind;
  work_order: WorkOrder;
  note: Note;
  /** Why --block-on-fail could not block (the result is recorded anyway). */
  block_refused?: ErrorBody;
}

/** The command the caller's verify may run, who wrote it, and how the project says to run it. */
export interface VerifyCommand {
  project: string;
  id: number;
  command: string;
  author: string | null;
  sandbox: { required: boolean; network: boolean; env: string[] };
  /** The result already recorded under the request's idempotency key: the door answers it and runs nothing. */
  replay?: VerificationResult;
}

/** A renewed WO; or, when its keep-alive said the agent was idle past the project's limit, the WO whose lease that ended. */
export type Renewed = WorkOrder & { ended?: { reason: "idle"; idle_ms: number; idle_limit_ms: number }; warnings?: string[] };

/** A release or update: the WO, and warnings for the caller (finished without a passing verification). */
export type Finished = WorkOrder & { warnings?: string[] };

/** What a spend report recorded (null: a cumulative report that added nothing new), against which attempt (null: the WO, outside any attempt). */
export interface SpendResult {
  spend: SpendRecord | null;
  attempt: Attempt | null;
  work_order: WorkOrder;
  warnings?: string[];
}

/** An attempt with its length and what was spent in it. */
export type AttemptView = Attempt & { duration_ms: number | null; spend: SpendTotals };

export type SpendReport = Parsed["spend"];

export interface RenewAllResult {
  renewed: WorkOrder[];
  /** Leases that could not be renewed (e.g. MAX_HOLD_REACHED), with why. */
  refused: { id: number; error: ErrorBody }[];
}

export interface Health {
  store: StoreInfo;
  integrity: string[];
  /** Where the store's schema differs from what its migrations make (PostgreSQL; absent where not checked). */
  schema?: string[];
  now: string;
  last_event_at: string | null;
}

export interface LedgerOptions {
  /** Called after each commit with the events it appended (metrics; never for logging inside the core). */
  onEvents?: (events: readonly NewEvent[]) => void;
  /** Remember live tokens this long when looking them up (see token-cache.ts); 0: always ask the store. */
  tokenCacheMs?: number;
  /** A host name's addresses (webhook URLs are judged by every one); without it a name is judged only when delivered to. */
  resolveHost?: (host: string) => Promise<string[]>;
}
