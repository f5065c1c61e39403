/** Domain records. JSON field names here are the public contract (DESIGN.md §3). */

export const STATUSES = ["open", "claimed", "blocked", "done", "cancelled"] as const;
export type Status = (typeof STATUSES)[number];
/** Statuses a WO can rest in without a lease. */
export type RestingStatus = Exclude<Status, "claimed">;

export const PRIORITIES = ["P0", "P1", "P2", "P3"] as const;

/**
 * The queue order of claimable work (find-unclaimed, claim next): most urgent
 * priority first, then oldest id. Priorities sort as text, and P0 < P1 < P2
 * < P3 as text is the urgency order, so both stores sort by the column itself
 * (and index it that way).
 */
export const QUEUE_ORDER = "w.priority, w.id";
export type Priority = (typeof PRIORITIES)[number];

/** How a work order is named to people and agents (DESIGN.md §3: `WO-53`). */
export const label = (id: number) => `WO-${id}`;

export const NOTE_KINDS = ["progress", "finding", "blocker", "verification", "link"] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

export interface Lease {
  agent: string;
  /** Fencing token: grows with every claim of this WO. */
  token: number;
  claimed_at: string;
  expires_at: string;
  renewed_at: string | null;
  /** Renewals cannot keep the lease past this time (claim's max_hold, or the project's); null: no cap. */
  hold_until: string | null;
}

/**
 * How an agent's last lease on a WO ended, kept so that an agent whose lease
 * lapsed is fenced by name (DESIGN.md §9): `expired` fences its holder-type
 * writes until it claims again; `ended` (its own release or status change)
 * only explains a later renew or release.
 */
export interface EndedLease {
  agent: string;
  token: number;
  at: string;
  how: "expired" | "ended";
  /** The status the WO went to, and the operation that ended it (for `ended`). */
  status: RestingStatus;
  via?: "release" | "update" | "verify";
  /** It handed the WO on to another stage: the next stage's agents finish it, not this one. */
  handed_on?: true;
  /** It expired because its keep-alive found the agent idle past the project's limit. */
  idle?: true;
  /** It expired at its hold cap (max_hold): renewals could not keep it longer. */
  max_hold?: true;
  /** The WO's revision right after this ending (absent in older records): changed since, its releaser's right to follow up is gone. */
  revision?: number;
  /** The revision its releaser's one follow-up change without a lease left (context may still be linked after it). */
  followed_revision?: number;
}

/** The newest verification result recorded on a WO, and the lease it was recorded under. */
export interface VerificationRecord {
  passed: boolean;
  agent: string;
  at: string;
  /** The fencing token of the lease it ran under (null: recorded by an admin without a lease). */
  token: number | null;
  /** The command that ran (absent in records from before it was kept): a pass counts only for that command. */
  command?: string;
  /** The directory it ran in (absent: not said). */
  where?: string;
  /** The repository it ran in: its main work tree (absent: outside git, or not said). */
  repo?: string;
  /** A pass recorded after a failure elsewhere: where that failure ran, still unanswered (issue 23, eighth trials), and in which repository. */
  failed_in?: string;
  failed_repo?: string;
  /** The git branch it ran on (absent: detached, outside git, or not said), and for an unanswered failure the branch that failure ran on. */
  branch?: string;
  failed_branch?: string;
  /** It ran on uncommitted changes: what passed is not on the branch until they are checkpointed (thirteenth MCP trial). */
  dirty?: true;
  /** Those changes were made by the command as it ran (the tree was clean when it started): not the holder's work (twenty-fifth MCP trial). */
  changed_by_run?: true;
  /** HEAD moved while it ran (a commit or a checkout): what passed is not what HEAD names now (counted as dirty). */
  head_moved?: true;
  /** The commit it ran at (absent: outside git, or not said). */
  head?: string;
  /** The door said it ran outside any git work tree (absent: it ran in one, or nothing was said). */
  outside_git?: true;
  /** A pass that came after a failure (directly, or after passes that did): checkpointed over, it answers that failure no more. */
  after_failure?: true;
  /** This lease verified on the WO's branch before (or now): its work is there, so a pass elsewhere did not check it. */
  on_its_branch?: true;
}

/** The editable content of a work order. */
export interface WorkOrderFields {
  title: string;
  description: string;
  repo: string;
  acceptance: string[];
  scope: string;
  files: string[];
  verification: string;
  priority: Priority;
  handover: string;
  labels: string[];
  depends_on: number[];
  /** Capabilities an agent needs to claim it (core/stages.ts). */
  requires: string[];
  /** Budget caps (DESIGN.md §10): reaching one dead-letters the WO; null: no cap. A project's defaults are copied in at create. */
  max_usd: number | null;
  max_tokens: number | null;
  max_attempts: number | null;
}

/** The budget caps of a WO (and a project's defaults for them). */
export const CAP_FIELDS = ["max_usd", "max_tokens", "max_attempts"] as const;
export type CapField = (typeof CAP_FIELDS)[number];

/** What a WO has used: the spend recorded against its attempts (tokens count input, cache included, plus output). */
export interface SpendTotals {
  usd: number;
  tokens_in: number;
  tokens_out: number;
  /** Spend records whose cost is unknown (a model without a price): their tokens count, their cost does not. */
  unpriced: number;
  /** Of the totals, what was reported outside the attempt a cap judges (a superseded attempt's, or another agent's during an attempt): counted, never against a cap. */
  outside_usd?: number;
  outside_tokens?: number;
}

export interface WorkOrder extends WorkOrderFields {
  project: string;
  id: number;
  status: Status;
  /** Where it is in its project's pipeline (null: the project has no stages, or had none when it was created). */
  stage: string | null;
  /** Its git branch (core/branch.ts): named when it was created, never renamed. */
  branch: string;
  lease: Lease | null;
  revision: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  /** Who wrote the current verification command (null: none set); verify runs code this agent wrote. */
  verification_by: string | null;
  /** Claims so far: each claim opens one attempt, numbered by its fencing token. */
  attempts: number;
  spend: SpendTotals;
  /** Why the WO is blocked by its budget (dead-letter), or null; raising the cap returns it to the queue. */
  dead_letter: string | null;
}

/**
 * What a store persists. `status` may say "claimed" with a lease whose time has
 * passed; the core turns that into the effective view (lazy expiry).
 */
export interface StoredWorkOrder extends Omit<WorkOrder, "attempts"> {
  /** Status to return to when the lease ends without an explicit status. */
  prior_status: RestingStatus | null;
  /** Last fencing token handed out for this WO (0 = never claimed): also its number of attempts. */
  fence: number;
  /** The verification command as it was when the current lease began: what the holder's verify runs. */
  pinned_verification: string | null;
  /** The last lease of each recent holder (newest first, one per agent, at most ENDED_LEASES_KEPT). */
  ended_leases: EndedLease[];
  last_verification: VerificationRecord | null;
}

export interface Note {
  id: number;
  project: string;
  wo: number;
  agent: string;
  kind: NoteKind;
  body: string;
  created_at: string;
}

export interface GitState {
  head: string;
  branch: string | null;
  dirty: boolean;
}

export interface ContextEntry {
  id: number;
  project: string;
  key: string;
  body: string;
  agent: string;
  wo: number | null;
  created_at: string;
  git: GitState | null;
}

export const ATTEMPT_OUTCOMES = ["done", "blocked", "released", "expired", "lost", "handed_on"] as const;
/**
 * How an attempt ended: `released` covers a release to open (or cancelled);
 * `handed_on`, its holder moved the WO on to another stage (its part done);
 * `expired`, its lease lapsed; `lost`, its lease lapsed while its agent was
 * still working (it reported spend on it afterwards), so the work may have
 * been done twice.
 */
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** One claim of a WO and how it ended (DESIGN.md §10); `token` is the claim's fencing token, which numbers the attempts. */
export interface Attempt {
  project: string;
  wo: number;
  token: number;
  agent: string;
  started_at: string;
  ended_at: string | null;
  outcome: AttemptOutcome | null;
}

/** One report of spend against an attempt. Append-only. */
export interface SpendRecord {
  id: number;
  project: string;
  wo: number;
  /** The attempt (its fencing token). */
  token: number;
  agent: string;
  phase: string;
  model: string | null;
  tokens_in: number;
  tokens_out: number;
  /** Parts of tokens_in read from or written to a prompt cache (priced differently). */
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** null: unknown (no price for the model, and none given). */
  cost_usd: number | null;
  /** Where cumulative figures came from (a transcript), so a second report adds only what is new. */
  source: string | null;
  created_at: string;
}

export const EVENT_TYPES = [
  "created",
  "updated",
  "claimed",
  "renewed",
  "released",
  "expired",
  "status_changed",
  "note_added",
  "context_put",
  "spend_recorded",
  "checkpoint",
  "write_refused",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** How a webhook subscription's messages look (core/webhooks.ts). */
export const WEBHOOK_FORMATS = ["standard", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
/** The preset of events that need a person: no agent will fix them. */
export const NEEDS_HUMAN = "needs-human";
/** What a subscription may name: event types, the preset, or every event. */
export const WEBHOOK_EVENT_NAMES = ["*", NEEDS_HUMAN, ...EVENT_TYPES] as const;
export type WebhookState = "active" | "paused" | "suspended";

/** How a subscription's deliveries are going; shown to admins (never the secret). */
export interface WebhookHealth {
  delivered: number;
  /** Failed attempts at the event it is stuck on (0: none). */
  failures: number;
  failing_since: string | null;
  last_error: string | null;
  last_error_at: string | null;
  last_delivery_at: string | null;
  /** When a test was asked for and not yet sent; and how the last test went. */
  test_requested_at: string | null;
  test_result: string | null;
}

export interface Webhook {
  id: string;
  url: string;
  format: WebhookFormat;
  events: string[];
  /** Only this project's events (null: every project's). */
  project: string | null;
  /** `whsec_…`: kept to sign with, never shown after creation. */
  secret: string;
  allow_private: boolean;
  state: WebhookState;
  /** The seq of the last event handled (sent, or skipped as not wanted): delivery resumes after it. */
  cursor: number;
  created_by: string;
  created_at: string;
  health: WebhookHealth;
  /** The deliverer holding the subscription's lease, and until when. */
  owner: string | null;
  owner_until: string | null;
}

export type PublicWebhook = Omit<Webhook, "secret" | "owner" | "owner_until">;

export interface LedgerEvent {
  seq: number;
  project: string;
  wo: number | null;
  type: EventType;
  agent: string;
  revision: number | null;
  at: string;
  data: Record<string, unknown>;
}

export type NewEvent = Omit<LedgerEvent, "seq">;

/** A commit of a holder's work tree to its WO's branch, recorded under the lease it was made in (issue 26). */
export interface Checkpoint {
  commit: string;
  agent: string;
  /** The lease (fencing token) it was made under. */
  token: number;
  at: string;
  message: string;
}

/** Who may set or change a WO's verification command: its creator (and admins), admins only, or any agent. */
export const VERIFICATION_AUTHORS = ["creator", "admins", "any"] as const;
export type VerificationAuthors = (typeof VERIFICATION_AUTHORS)[number];

export interface ProjectPolicy {
  verification_authors: VerificationAuthors;
  /** `done` needs a passing verification under the current lease (VERIFICATION_REQUIRED otherwise). */
  require_verification: boolean;
  /** Default cap on how long renewals may keep one lease (ms); null: none. */
  max_hold_ms: number | null;
  /** Budget caps copied into each WO created without its own (null: none). */
  max_usd: number | null;
  max_tokens: number | null;
  max_attempts: number | null;
  /** USD per million tokens by model name prefix, over the built-in table (pricing.ts); null: the built-in table. */
  prices: PriceTable | null;
  /** Authors whose verification commands verify runs without --trust; null: any author the project lets write them. */
  trusted_authors: string[] | null;
  /** Variables passed to verification commands besides the fixed few (core/sandbox.ts). */
  verification_env: string[];
  /** Verification commands may use the network (in the sandbox they have none otherwise). */
  verification_network: boolean;
  /** verify refuses to run without a sandbox (SANDBOX_REQUIRED), and a result recorded without one is refused. */
  require_sandbox: boolean;
  /** The pipeline's stages in order (empty: none; WOs have no stage). */
  stages: string[];
  /** The stage a WO must be in to be done (null: any). */
  done_stage: string | null;
  /** A keep-alive stops holding the leases of an agent that did nothing for this long (ms; null: never). */
  idle_limit_ms: number | null;
  /** What new WOs' branch names start with (core/branch.ts). */
  branch_prefix: string;
  /** serve prunes WOs finished longer ago than this, once a day (ms; null: never; service/retention.ts). */
  prune_after_ms: number | null;
}

export interface ModelPrice {
  /** USD per million tokens: uncached input, output, cache writes, cache reads (the last two default to input's). */
  input: number;
  output: number;
  cache_write?: number | undefined;
  cache_read?: number | undefined;
}
export type PriceTable = Record<string, ModelPrice>;

export interface Project {
  name: string;
  created_at: string;
  policy: ProjectPolicy;
}

export interface ProjectSummary extends Project {
  counts: Record<Status, number>;
}

export interface FileConflict {
  id: number;
  title: string;
  agent: string;
  expires_at: string;
  files: string[];
  /** Present when the patterns were too complex to compare: treated as an overlap where protection is asked for. */
  overlap?: "unknown";
  reason?: string;
}

export const ROLES = ["agent", "admin", "reader"] as const;
export type Role = (typeof ROLES)[number];

/** An API token as stored: only the hash of the secret is kept. */
export interface TokenRecord {
  id: string;
  agent: string;
  role: Role;
  project: string | null;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  /** The capabilities an admin gave the token (null: whatever its holder declares). */
  can: string[] | null;
}
