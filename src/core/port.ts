/**
 * The storage port. It speaks the domain, not SQL: adapters persist records
 * and answer queries atomically; the lease rules live in src/core/rules.ts.
 */
import type { ReportWindow } from "./report.js";
import type { AgentActivity } from "./insights.js";
import type { StatusChange } from "./flow.js";
import type {
  Attempt,
  ContextEntry,
  LedgerEvent,
  NewEvent,
  Note,
  Project,
  ProjectPolicy,
  ProjectSummary,
  SpendRecord,
  Status,
  StoredWorkOrder,
  TokenRecord,
} from "../core/types.js";
import type { QueueFilter } from "./stages.js";
import type { RuleEnv, WriteRule } from "./rule-data.js";
import type { Webhook } from "./webhooks.js";

export interface ListQuery {
  project?: string | undefined;
  statuses?: readonly Status[] | undefined;
  label?: string | undefined;
  agent?: string | undefined;
  /** Only ids above this one (a page's cursor; with a project). */
  after?: number | undefined;
  limit: number;
}

export type { AgentActivity };

/** Attempts of a project (started at or after `since`), or of one WO or agent: the newest `limit`, oldest first. */
export interface AttemptQuery {
  project: string;
  wo?: number | undefined;
  agent?: string | undefined;
  since?: string | undefined;
  limit: number;
}

/** Spend records of a project (created at or after `since`), or of one WO, attempt and source: the newest `limit`, oldest first. */
export interface SpendQuery {
  project: string;
  wo?: number | undefined;
  token?: number | undefined;
  source?: string | undefined;
  since?: string | undefined;
  limit: number;
}

/** A write's first result, kept under its idempotency key. */
export interface IdempotentWrite {
  project: string;
  agent: string;
  key: string;
  operation: string;
  request_hash: string;
  /** The result as JSON text. */
  result: string;
  created_at: string;
}

export interface ClaimProbe {
  exists: boolean;
  lapsed: StoredWorkOrder[];
  first: StoredWorkOrder | null;
  /** The project has context entries (else a claim has no context to show, and need not look). */
  hasContext: boolean;
  /** The project's default cap on holding a lease (its policy's max_hold_ms). */
  maxHoldMs: number | null;
}

export interface StoreInfo {
  kind: "sqlite" | "postgres" | "remote";
  location: string;
  schema_version: number;
}

/** What backup wrote. */
export interface BackupResult {
  file: string;
  bytes: number;
  /** The copy's own integrity check, run before it was given its name. */
  integrity: "ok";
}

/** What prune removed. */
export interface PrunedCounts {
  events: number;
  notes: number;
  context: number;
  spend: number;
}

export interface Tx {
  /** The transaction's clock, ISO-8601 UTC with milliseconds (the database clock where there is one). */
  now(): string;

  getProject(name: string): Promise<Project | null>;
  setProjectPolicy(name: string, policy: ProjectPolicy): Promise<void>;
  /** Creates the project unless it exists (concurrent first writes must not collide). */
  insertProject(name: string, at: string): Promise<void>;
  /** Every project's name (to suggest the one a mistyped name meant). */
  projectNames(): Promise<string[]>;
  /** Projects with stored-status counts (callers sweep expired leases first). */
  listProjects(): Promise<ProjectSummary[]>;
  /** Reserves `count` consecutive ids in the project's sequence and returns the first. */
  allocateIds(project: string, count: number): Promise<number>;

  getWorkOrder(project: string, id: number): Promise<StoredWorkOrder | null>;
  /** Ids among `ids` that do not exist or are not done. */
  notDoneOf(project: string, ids: readonly number[]): Promise<number[]>;
  missingOf(project: string, ids: readonly number[]): Promise<number[]>;
  /** The depends_on lists of these WOs, read without locking them. */
  dependenciesOf(project: string, ids: readonly number[]): Promise<{ id: number; depends_on: number[] }[]>;
  insertWorkOrder(wo: StoredWorkOrder): Promise<void>;
  /** Writes `wo` over `prev`, the same record as read in this transaction (adapters may write only what differs). */
  saveWorkOrder(wo: StoredWorkOrder, prev: StoredWorkOrder): Promise<void>;
  listWorkOrders(q: ListQuery): Promise<StoredWorkOrder[]>;
  /** How many unfinished WOs (open, claimed, blocked) each stage of the project holds (null: no stage); stages holding none are left out. */
  stageCounts(project: string): Promise<{ stage: string | null; n: number }[]>;
  /** Open WOs without a lease whose dependencies are all done and that pass `filter` (stages.passes), in QUEUE_ORDER. */
  claimable(project: string, limit: number, offset: number, filter?: QueueFilter): Promise<StoredWorkOrder[]>;
  /**
   * What claim --next reads before it chooses, as one read inside a write
   * transaction: whether the project exists, its lapsed leases (as
   * expiredLeases(project, limit)) and its first claimable WO (as
   * claimable(project, 1, 0)).
   */
  claimProbe(project: string, limit: number, filter?: QueueFilter): Promise<ClaimProbe>;
  /** WOs whose stored lease is still live at `now`. */
  liveLeases(project: string, now: string): Promise<StoredWorkOrder[]>;
  /**
   * WOs whose stored lease has passed its expiry at the transaction's clock
   * (all projects when project is null). Needs no clock from the caller, so
   * it can be a transaction's first statement.
   */
  expiredLeases(project: string | null, limit: number): Promise<StoredWorkOrder[]>;

  /** Writes an attempt (inserted when it opens, overwritten when it ends), keyed by project, WO and token. */
  saveAttempt(a: Attempt): Promise<void>;
  listAttempts(q: AttemptQuery): Promise<Attempt[]>;
  insertSpend(s: Omit<SpendRecord, "id">): Promise<SpendRecord>;
  listSpend(q: SpendQuery): Promise<SpendRecord[]>;
  /** What a report folds of a project's window: the newest `limit` of each, lean (a busy week is thousands: issue 29 item 7). */
  reportWindow(project: string, since: string, limit: number): Promise<ReportWindow>;
  /** The labels of these WOs (for reports by label). */
  labelsOf(project: string, ids: readonly number[]): Promise<{ id: number; labels: string[] }[]>;

  insertNote(note: Omit<Note, "id">): Promise<Note>;
  listNotes(project: string, wo: number): Promise<Note[]>;

  appendEvents(events: readonly NewEvent[]): Promise<void>;
  /** Events after `after` in sequence order; every project when project is null. */
  /** Events after `after` in seq order: the first `limit`, or with `newest` the last `limit` (still in seq order). */
  listEvents(project: string | null, wo: number | null, after: number, limit: number, newest?: boolean): Promise<LedgerEvent[]>;
  /** The newest `limit` events of one type on one WO, in seq order. */
  eventsOfType(project: string, wo: number, type: LedgerEvent["type"], limit: number): Promise<LedgerEvent[]>;
  /** The project's newest `limit` events of these types at or after `since`, in seq order (the dashboard's needs-a-human panel and roster). */
  recentEventsOfTypes(project: string, types: readonly LedgerEvent["type"][], since: string, limit: number): Promise<LedgerEvent[]>;
  /**
   * Each agent that acted in the project at or after `since`, aggregated: its events (an expiry recorded under its name is
   * not its act), the attempts it started then and how they ended, its spend, and its last claim's TTL.
   */
  agentActivity(project: string, since: string): Promise<AgentActivity[]>;
  /** The flow's status changes (core/flow.ts): each WO's last one before `since` (its status then), and the first `limit` from `since` on, in seq order. */
  statusChanges(project: string, since: string, limit: number): Promise<{ before: StatusChange[]; changes: StatusChange[] }>;
  /**
   * What a follower (watch, SSE) reads: events after the one with seq `after`,
   * in delivery order, such that resuming from the seq of the last one returned
   * never misses an event and never repeats one. Adapters whose seq order is
   * commit order (SQLite's single writer) leave it out and followers use
   * listEvents; PostgreSQL commits concurrently and needs its own order.
   */
  followEvents?(project: string | null, after: number, limit: number): Promise<LedgerEvent[]>;
  lastEventAt(): Promise<string | null>;
  /** Where a follower starts to see only what happens from now on: the seq of the last event delivered so far (0 when none). */
  lastEventSeq(project: string | null): Promise<number>;

  insertContext(entry: Omit<ContextEntry, "id">): Promise<ContextEntry>;
  /**
   * Newest entry per key (or for one key), of those linked to WO `wo` when it
   * is given; without it, the newest per key of the project-wide entries and
   * of those linked to a WO, newest first (a WO's handover must not hide the
   * project's plan: issue 23, ninth and eleventh trials).
   */
  latestContext(project: string, key: string | null, wo: number | null): Promise<ContextEntry[]>;
  /** Entries newest first (of one key, of those linked to WO `wo`, when given). */
  contextHistory(project: string, key: string | null, limit: number, wo: number | null): Promise<ContextEntry[]>;
  /** A project's entries after the one with id `after`, oldest first (export pages through them). */
  contextPage(project: string, after: number, limit: number): Promise<ContextEntry[]>;

  /**
   * The write recorded under an idempotency key of an agent's, or null. In a
   * write transaction a concurrent write with the same key waits here until
   * this one ends (then sees its record), so a key is never used twice.
   */
  getIdempotentWrite(project: string, agent: string, key: string): Promise<IdempotentWrite | null>;
  /** Records (or, for a key past its window, replaces) the first result of a write. */
  putIdempotentWrite(w: IdempotentWrite): Promise<void>;
  /** Deletes up to `limit` records made before `before` (any project). */
  purgeIdempotentWrites(before: string, limit: number): Promise<void>;

  /** Done or cancelled WOs last changed before `before` whose history is still here (they have events), lowest id first (prune). */
  prunable(project: string, before: string, limit: number): Promise<number[]>;
  /** Deletes these WOs' events, notes, linked context and spend records (prune), and says how many of each. */
  pruneHistory(project: string, ids: readonly number[]): Promise<PrunedCounts>;

  insertWebhook(w: Webhook): Promise<void>;
  /** One subscription (in a write transaction, locked until it ends). */
  getWebhook(id: string): Promise<Webhook | null>;
  listWebhooks(): Promise<Webhook[]>;
  /** Writes `w` over the subscription with its id (read in this transaction). */
  saveWebhook(w: Webhook): Promise<void>;
  deleteWebhook(id: string): Promise<boolean>;

  insertToken(token: TokenRecord): Promise<void>;
  findToken(hash: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when no live token has this id. */
  revokeToken(id: string, at: string): Promise<boolean>;
}

/** Which WO a rule applies to: one by id, or the first of a project's queue that passes a filter. */
export type RuleTarget = { project: string; id: number } | { project: string; next: QueueFilter };

/**
 * A write's idempotency key (idempotency.ts), for a store that applies the
 * write in one statement: it records `{ [RULE_RESULT]: operation, before,
 * after }` under the key in that statement, or, when the key was used
 * already, writes nothing and answers "defer" (the core then answers from the
 * record, as for any retry).
 */
export interface KeyedWrite {
  agent: string;
  key: string;
  operation: string;
  request_hash: string;
}

/** What a store's one-statement rule did (Store.applyRule). */
export interface RuleOutcome {
  /**
   * "applied"; "defer": a state the rule leaves to the core's full sequence;
   * "none": no such WO (or project), or nothing in the queue; else the code
   * of the refusal that held (nothing was written).
   */
  verdict: string;
  before: StoredWorkOrder | null;
  after: StoredWorkOrder | null;
  /** The event it appended (applied). */
  event: NewEvent | null;
  /** The project holds context entries (a claim's result then shows the WO's). */
  hasContext: boolean;
}

export interface Store {
  readonly info: StoreInfo;
  /**
   * A store that compiles rules (core/rule-data.ts) applies one in a single
   * statement, its own transaction; stores without it leave the rule to the
   * core, which interprets the same rule inside write().
   */
  applyRule?(rule: WriteRule, target: RuleTarget, args: RuleEnv["args"], keyed?: KeyedWrite): Promise<RuleOutcome>;
  /**
   * Runs fn in one write transaction: all of it commits or none of it does.
   * SQLite serialises writers (one at a time); PostgreSQL runs them
   * concurrently and serialises only what they lock (rows read with
   * getWorkOrder, a project's lease set; see the adapter). fn may run a second
   * time (a PostgreSQL transaction whose clock was read too early starts
   * again), so it must do nothing but through `tx` until it returns.
   */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs fn on a consistent snapshot. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Storage-level integrity check; returns problems found (empty when healthy). */
  integrity(): Promise<string[]>;
  /** Where the schema differs from what the migrations make (a store that can tell: PostgreSQL). */
  schemaDrift?(): Promise<string[]>;
  /**
   * A consistent copy of the ledger in a new file `file`, made while others
   * write, whole or not at all (a store that is one file: SQLite); `onStart`
   * hears its size before the copy begins.
   */
  backup?(file: string, onStart?: (bytes: number) => void): Promise<BackupResult>;
  close(): Promise<void>;
}
