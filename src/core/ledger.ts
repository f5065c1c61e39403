/**
 * The ledger service: validates input with the shared schemas, loads records
 * through the storage port, applies the rules of rules.ts and persists the
 * result in one transaction. Every door calls this (or the remote client that
 * mirrors it); none re-implements a rule.
 */
import type { PulledContext } from "./freshness.js";
import { linkedContext, NO_CONTEXT, pulled, withDependencies, type WoContext } from "./context.js";
import { LedgerError, isLedgerError, type ErrorBody } from "./errors.js";
import { OverlapChecker } from "./files.js";
import * as rules from "./rules.js";
import { CLAIM, FINISH_BY_RELEASE, FINISH_BY_UPDATE } from "./write-rules.js";
import { DEFAULT_TTL_MS, inputs, MAX_USD, type Inputs, type Parsed } from "./schemas.js";
import { CAP_FIELDS } from "./types.js";
import type {
  Attempt,
  Checkpoint,
  ContextEntry,
  FileConflict,
  GitState,
  LedgerEvent,
  NewEvent,
  Note,
  Project,
  ProjectPolicy,
  ProjectSummary,
  Role,
  SpendRecord,
  SpendTotals,
  Status,
  StoredWorkOrder,
  WorkOrder,
} from "./types.js";
import { addSpend, assertWithinCaps, NO_SPEND } from "./budget.js";
import { assertMayAuthor, commandToRun, DEFAULT_POLICY, verifierOf } from "./verification.js";
import { assertTrusted, sandboxFor, type SandboxKind } from "./sandbox.js";
import { pollEvents, type FollowOptions } from "./follow.js";
import { TokenCache, type TokenLookup } from "./token-cache.js";
import { assertAdmin, Tokens, type PublicToken } from "./tokens.js";
import { asOneItem, parse } from "./validate.js";
import { assertStageMove, initialStage, passes, queueFilter, stageOf } from "./stages.js";
import { nearMisses } from "./names.js";
import { judgeCommit, type CommitVerdict } from "./commits.js";
import { destinationRefused } from "./address.js";
import { mayDeliver, newWebhookId, newWebhookSecret, NO_HEALTH, notFound as webhookNotFound, toPublicWebhook, urlProblem, type PublicWebhook, type Webhook } from "./webhooks.js";
import { once } from "./idempotency.js";
import { assertReportBound, attemptFor, growth, isOutside, NO_ATTEMPT, recordSpend, type Figures } from "./spend.js";
import { costOf, priceOf } from "./pricing.js";
import { buildReport, type Report } from "./report.js";
import { conflicts, fileConflict } from "./file-conflicts.js";
import {
  appendNote,
  batchItem,
  collecting,
  dependencyPath,
  getOrNotFound,
  loadForWrite,
  persist,
  projectForWrite,
  projectNotFound,
  recordExpiries,
  requireProject,
  SWEEP_BATCH,
} from "./steps.js";
import type { Store, StoreInfo, Tx } from "./port.js";

export type { WoContext };
export type WorkOrderWithNotes = WorkOrder & { notes: Note[]; context: WoContext; checkpoints: Checkpoint[] };
/** A WO its caller holds, with the checkpoints made on it so far (oldest first). */
export type Held = WorkOrder & { lease: NonNullable<WorkOrder["lease"]>; checkpoints: Checkpoint[] };
export interface CheckpointResult {
  checkpoint: Checkpoint;
  work_order: WorkOrder;
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
}
/** A renewed WO; or, when its keep-alive said the agent was idle past the project's limit, the WO whose lease that ended. */
export type Renewed = WorkOrder & { ended?: { reason: "idle"; idle_ms: number; idle_limit_ms: number } };
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
type SpendReport = Parsed["spend"];
export interface RenewAllResult {
  renewed: WorkOrder[];
  /** Leases that could not be renewed (e.g. MAX_HOLD_REACHED), with why. */
  refused: { id: number; error: ErrorBody }[];
}

/** A create of one work order, validated: its errors name the fields as given (see asOneItem). */
function parseOne(input: Inputs["create"]): Parsed["create"] {
  try {
    return parse(inputs.create, input);
  } catch (e) {
    throw asOneItem(e);
  }
}

/** The filters of a claim --next, in words (" in stage ready with label api that fits your capabilities (code)"). */
function filterWords(q: { stage?: string | undefined; labels?: readonly string[] | undefined; can?: readonly string[] | undefined; any?: boolean | undefined }): string {
  const parts = [
    q.stage === undefined ? "" : ` in stage ${q.stage}`,
    q.labels?.length ? ` with label ${q.labels.join(" or ")}` : "",
    q.any ? "" : ` that fits your capabilities (${q.can?.length ? q.can.join(", ") : "none declared"})`,
  ];
  return parts.join("");
}

/**
 * A project's stages may change only so that no unfinished WO is left in a
 * stage that no longer exists (its agents would never find it again), and the
 * done stage must be one of them.
 */
async function assertStagesFit(tx: Tx, before: ProjectPolicy, after: ProjectPolicy, project: string): Promise<void> {
  if (after.done_stage !== null) stageOf(after, project, after.done_stage, "done_stage");
  const dropped = before.stages.filter((s) => !after.stages.includes(s));
  if (dropped.length === 0) return;
  const left = (await tx.stageCounts(project)).filter((c) => c.stage !== null && dropped.includes(c.stage));
  if (left.length === 0) return;
  const where = left.map((c) => `${c.n} in ${c.stage}`).join(", ");
  throw new LedgerError("VALIDATION", `stages: ${dropped.join(", ")} still hold unfinished work orders (${where}); they would never be found again`, {
    hint: "move them to a stage that stays ({{op:update}} {{stage=…}}) or finish them first, then change the stages",
    details: { issues: [{ field: "stages", message: "a dropped stage still holds work" }], left },
  });
}

/** A project's policy, or the default one for a project that does not exist (yet). */
async function policyOf(tx: Tx, project: string): Promise<ProjectPolicy> {
  return (await tx.getProject(project))?.policy ?? DEFAULT_POLICY;
}

/** What finishing `wo` must satisfy: its dependencies, and its project's policy. */
async function finishing(tx: Tx, wo: StoredWorkOrder, role: Role | undefined, unverifiedReason: string | undefined): Promise<rules.Finish> {
  const policy = await policyOf(tx, wo.project);
  const pending = wo.depends_on.length ? await tx.notDoneOf(wo.project, wo.depends_on) : [];
  return { policy, role, unverifiedReason, pending };
}

/**
 * Loads a WO for a write by `agent` (lazy expiry recorded first), with the
 * agent's newest attempt on it read from the store when it is not the live
 * holder: whether a lapsed holder is fenced is judged from every attempt
 * ever stored, not from a bounded list (rules.withAttempt).
 */
async function loadAs(tx: Tx, project: string, id: number, agent: string): Promise<StoredWorkOrder> {
  return asCaller(tx, await loadForWrite(tx, project, id), agent);
}
/** The same in a read: the effective view, with the caller's attempt judged against the stored lease (which still says when a lapsed one expired). */
async function readAs(tx: Tx, project: string, id: number, agent: string): Promise<StoredWorkOrder> {
  return rules.effective(await asCaller(tx, await getOrNotFound(tx, project, id), agent), tx.now());
}
async function asCaller(tx: Tx, wo: StoredWorkOrder, agent: string): Promise<StoredWorkOrder> {
  if (rules.isLive(wo.lease, tx.now()) && wo.lease.agent === agent) return wo;
  if (wo.fence === 0) return wo;
  const [last] = await tx.listAttempts({ project: wo.project, wo: wo.id, agent, limit: 1 });
  return rules.withAttempt(wo, agent, last, tx.now());
}
/** What a follower reads after `after` (events, SSE, webhooks): the store's follow order where it has one, else seq order. */
const followed = (tx: Tx, project: string | null, after: number, limit: number): Promise<LedgerEvent[]> =>
  tx.followEvents ? tx.followEvents(project, after, limit) : tx.listEvents(project, null, after, limit);

/** A lapsed agent that keeps writing is recorded once a minute per WO, not once per attempt. */
const REFUSALS_RECORDED_EVERY_MS = 60_000;

/** Why webhooks are admins' (tokens.assertAdmin). */
const WEBHOOKS_ARE_ADMINS = "the server sends every matching event of the ledger to the URL, so choosing where is an admin's act";

/** The newest checkpoints made on a WO (a WO's page shows them; the next holder's worktree starts from the last). */
const CHECKPOINTS_SHOWN = 100;
async function checkpointsOf(tx: Tx, project: string, id: number): Promise<Checkpoint[]> {
  return (await tx.eventsOfType(project, id, "checkpoint", CHECKPOINTS_SHOWN)).map((e) => ({
    commit: String(e.data.commit),
    agent: e.agent,
    token: Number(e.data.token),
    at: e.at,
    message: String(e.data.message),
  }));
}
/** An admin who finished a WO without the verification its project requires leaves the reason as a verification note, for all to see. */
async function noteOverride(tx: Tx, change: rules.Change, agent: string): Promise<void> {
  const reason = change.events.find((e) => typeof e.data.unverified_reason === "string")?.data.unverified_reason as string | undefined;
  if (reason !== undefined) await appendNote(tx, change.next, { agent, body: `done without a passing verification (admin override by ${agent}): ${reason}`, kind: "verification" });
}
const finished = (change: rules.Change): Finished => ({ ...rules.toPublic(change.next), ...(change.warnings ? { warnings: change.warnings } : {}) });

/** Records one spend report on `wo` (loaded for write in this transaction; `next` is it afterwards); see spend(). */
async function spendIn(tx: Tx, wo: StoredWorkOrder, s: SpendReport): Promise<{ result: SpendResult; next: StoredWorkOrder }> {
  const attempts = await tx.listAttempts({ project: wo.project, wo: wo.id, limit: MAX_ROWS });
  const attempt = attemptFor(wo, attempts, s.agent, s.role, s.lease_token, tx.now());
  // A lease claimed before attempts were recorded (an upgrade mid-lease) gets its row now.
  if (attempt && !attempts.some((a) => a.token === attempt.token)) await tx.saveAttempt(attempt);
  const token = attempt?.token ?? NO_ATTEMPT;
  const model = s.model ?? null;
  let figures: Figures | null = {
    tokens_in: s.tokens_in ?? 0,
    tokens_out: s.tokens_out ?? 0,
    cache_read_tokens: s.cache_read_tokens ?? 0,
    cache_write_tokens: s.cache_write_tokens ?? 0,
    cost_usd: s.cost_usd ?? null,
  };
  if (s.source !== undefined) {
    const before = (await tx.listSpend({ project: wo.project, wo: wo.id, token, source: s.source, limit: MAX_ROWS })).filter((r) => r.model === model);
    figures = growth(figures, before);
    if (figures === null) return { result: { spend: null, attempt, work_order: rules.toPublic(wo) }, next: wo };
  }
  const cost = figures.cost_usd ?? (model === null ? null : costOf(figures, priceOf(model, (await policyOf(tx, wo.project)).prices)));
  assertReportBound(cost, MAX_USD);
  const record = await tx.insertSpend({
    project: wo.project,
    wo: wo.id,
    token,
    agent: s.agent,
    phase: s.phase ?? "execute",
    model,
    ...figures,
    cost_usd: cost,
    source: s.source ?? null,
    created_at: tx.now(),
  });
  const change = recordSpend(wo, attempt, record, tx.now(), isOutside(wo, attempt, s.agent, tx.now()));
  await persist(tx, change);
  const result = { spend: record, attempt: change.attempt ?? attempt, work_order: rules.toPublic(change.next), ...(change.warnings ? { warnings: change.warnings } : {}) };
  return { result, next: change.next };
}

export interface Health {
  store: StoreInfo;
  integrity: string[];
  now: string;
  last_event_at: string | null;
}

const ACTIVE: readonly Status[] = ["open", "claimed", "blocked"];
const DEFAULT_LIST_LIMIT = 100;
const DEFAULT_FIND_LIMIT = 20;
/** At most this many attempts or spend records are read for one answer (a report over a busy year would not fit in memory). */
export const MAX_ROWS = 100_000;

export interface LedgerOptions {
  /** Called after each commit with the events it appended (metrics; never for logging inside the core). */
  onEvents?: (events: readonly NewEvent[]) => void;
  /** Remember live tokens this long when looking them up (see token-cache.ts); 0: always ask the store. */
  tokenCacheMs?: number;
  /** A host name's addresses (webhook URLs are judged by every one); without it a name is judged only when delivered to. */
  resolveHost?: (host: string) => Promise<string[]>;
}

export class Ledger {
  /** API token administration (used by serve and the token commands). */
  readonly tokens: Tokens;
  /** How serve looks a presented token up (cached where the store asked for it). */
  readonly tokenLookup: TokenLookup;
  /** The caller names itself (agent, and no role: trusted like an admin); a remote ledger knows its caller by token. */
  readonly knowsCaller: boolean = false;

  constructor(
    private readonly store: Store,
    private readonly opts: LedgerOptions = {},
  ) {
    this.tokens = new Tokens(store);
    this.tokenLookup = opts.tokenCacheMs ? new TokenCache(this.tokens, opts.tokenCacheMs) : this.tokens;
  }

  /** Who the ledger knows the caller as: nobody, locally (the caller passes its agent name). */
  async whoami(): Promise<PublicToken | null> {
    return null;
  }

  /** Hands on each event after `after` as it is committed, until the signal aborts. */
  follow(opts: FollowOptions, onEvent: (e: LedgerEvent) => void): Promise<void> {
    return pollEvents((after) => this.events({ ...(opts.project ? { project: opts.project } : {}), after, limit: 1000 }), opts, onEvent);
  }

  /**
   * A write transaction that reports its events to onEvents once committed.
   * An admin's write marks its events `admin: true`: acts that bend the
   * agents' rules are recorded as such.
   */
  private async write<T>(fn: (tx: Tx) => Promise<T>, role?: Role): Promise<T> {
    const onEvents = this.opts.onEvents;
    const admin = role === "admin";
    try {
      if (!onEvents && !admin) return await this.store.write(fn);
      const appended: NewEvent[] = [];
      const out = await this.store.write((tx) => fn(collecting(tx, appended, admin)));
      if (appended.length && onEvents) onEvents(appended);
      return out;
    } catch (e) {
      await this.recordRefusal(e);
      throw e;
    }
  }

  /**
   * A write refused because the caller's own lease lapsed is worth a person's
   * look (an agent working on after losing its work): recorded as an event,
   * at most one per agent and WO a minute, in a transaction of its own (the
   * refused one rolled back). Never in the way of the refusal itself.
   */
  private async recordRefusal(e: unknown): Promise<void> {
    if (!isLedgerError(e) || e.code !== "LEASE_LOST" || e.details?.lapsed !== true) return;
    const { project, id, agent } = e.details as { project: string; id: number; agent: string };
    try {
      const event = await this.store.write(async (tx) => {
        const recent = (await tx.eventsOfType(project, id, "write_refused", 20)).filter((x) => x.agent === agent).at(-1);
        if (recent && Date.parse(tx.now()) - Date.parse(recent.at) < REFUSALS_RECORDED_EVERY_MS) return null;
        const refused: NewEvent = { project, wo: id, type: "write_refused", agent, revision: null, at: tx.now(), data: { code: e.code, message: e.message } };
        await tx.appendEvents([refused]);
        return refused;
      });
      if (event) this.opts.onEvents?.([event]);
    } catch {
      // the refusal is what the caller needs; its record is a courtesy
    }
  }

  get info(): StoreInfo {
    return this.store.info;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Store, schema, clock and (unless told not to: it reads the whole file) an integrity check. */
  async health(opts: { integrity?: boolean } = {}): Promise<Health> {
    const integrity = opts.integrity === false ? [] : await this.store.integrity();
    return this.store.read(async (tx) => ({ store: this.store.info, integrity, now: tx.now(), last_event_at: await tx.lastEventAt() }));
  }

  async createProject(input: Inputs["createProject"]): Promise<Project & { created: boolean }> {
    const { project, new_project } = parse(inputs.createProject, input);
    return this.write(async (tx) => {
      const existing = await tx.getProject(project);
      if (existing) return { ...existing, created: false };
      // A typo is refused here too (issue 23: `init -p shpo` beside shop split the work), unless the name is meant.
      await projectForWrite(tx, project, new_project === true);
      return { name: project, created_at: tx.now(), policy: DEFAULT_POLICY, created: true };
    });
  }

  /** Sets a project's policy (admins only): who may write verification commands, whether done needs one to pass, the lease hold cap. */
  async setPolicy(input: Inputs["setPolicy"]): Promise<Project> {
    const {
      project,
      role,
      verification_authors,
      require_verification,
      max_hold,
      max_usd,
      max_tokens,
      max_attempts,
      prices,
      stages,
      done_stage,
      idle_limit,
      branch_prefix,
      ...sandbox
    } = parse(inputs.setPolicy, input);
    if (role !== "admin") {
      throw new LedgerError("FORBIDDEN", `only admins may change the policy of project ${project}`, { hint: "ask an admin", details: { project, role } });
    }
    return this.write(async (tx) => {
      const existing = await tx.getProject(project);
      if (!existing) throw projectNotFound(project, [], "create it first ({{op:createProject}}), then set its policy");
      const policy: ProjectPolicy = {
        verification_authors: verification_authors ?? existing.policy.verification_authors,
        require_verification: require_verification ?? existing.policy.require_verification,
        max_hold_ms: max_hold === undefined ? existing.policy.max_hold_ms : max_hold,
        max_usd: max_usd === undefined ? existing.policy.max_usd : max_usd,
        max_tokens: max_tokens === undefined ? existing.policy.max_tokens : max_tokens,
        max_attempts: max_attempts === undefined ? existing.policy.max_attempts : max_attempts,
        prices: prices === undefined ? existing.policy.prices : prices,
        trusted_authors: sandbox.trusted_authors === undefined ? existing.policy.trusted_authors : sandbox.trusted_authors,
        verification_env: sandbox.verification_env ?? existing.policy.verification_env,
        verification_network: sandbox.verification_network ?? existing.policy.verification_network,
        require_sandbox: sandbox.require_sandbox ?? existing.policy.require_sandbox,
        stages: stages ?? existing.policy.stages,
        done_stage: done_stage === undefined ? existing.policy.done_stage : done_stage,
        idle_limit_ms: idle_limit === undefined ? existing.policy.idle_limit_ms : idle_limit,
        branch_prefix: branch_prefix ?? existing.policy.branch_prefix,
      };
      await assertStagesFit(tx, existing.policy, policy, project);
      await tx.setProjectPolicy(project, policy);
      return { ...existing, policy };
    });
  }

  /** Every project with counts per status (or only `project`). */
  async projects(input: Inputs["projects"] = {}): Promise<ProjectSummary[]> {
    const { project } = parse(inputs.projects, input);
    await this.sweep(project ?? null);
    const all = await this.store.read((tx) => tx.listProjects());
    return project === undefined ? all : all.filter((p) => p.name === project);
  }

  async create(input: Inputs["create"]): Promise<WorkOrder[]> {
    // One work order's fields are named as given (`priority`), a batch's by item (`items[2].priority`).
    const one = Array.isArray(input?.items) && input.items.length === 1;
    const c = one ? parseOne(input) : parse(inputs.create, input);
    const { project, agent, role, items, new_project } = c;
    const at = (i: number) => (one ? "" : `items[${i}].`);
    return this.write(
      (tx) =>
        once(tx, "create", c, async () => {
          const now = tx.now();
          const proj = await projectForWrite(tx, project, new_project === true);
          if (items.some((i) => i.verification)) assertMayAuthor(proj?.policy ?? DEFAULT_POLICY, project, agent, role, null);
          for (const [i, item] of items.entries()) {
            const missing = await tx.missingOf(
              project,
              (item.depends_on ?? []).filter((d): d is number => typeof d === "number"),
            );
            if (missing.length) {
              throw new LedgerError("VALIDATION", `${at(i)}depends_on: ${missing.map(rules.label).join(", ")} does not exist in project ${project}`, {
                hint: "depend only on existing work orders of the same project, or on an earlier item of this batch as #N; nothing was written",
                details: { issues: [{ field: `${at(i)}depends_on`, message: "unknown work order" }], missing },
              });
            }
          }
          const caps = proj?.policy ?? DEFAULT_POLICY;
          items.forEach((item, i) => assertWithinCaps(item, caps, role, at(i)));
          const stages = items.map((item, i) => initialStage(caps, project, item.stage, `${at(i)}stage`));
          const first = await tx.allocateIds(project, items.length);
          const resolved = items.map((item, i) => ({
            ...item,
            depends_on: item.depends_on?.map((d) => (typeof d === "number" ? d : batchItem(d, i, first, `${at(i)}depends_on`))),
            // The project's budget defaults are copied in, so a WO's caps never change behind its back.
            ...Object.fromEntries(CAP_FIELDS.map((c) => [c, item[c] === undefined ? caps[c] : item[c]])),
          }));
          const created: WorkOrder[] = [];
          for (const [i, item] of resolved.entries()) {
            const { wo, event } = rules.create(project, first + i, item, agent, now, stages[i] ?? null, caps.branch_prefix);
            await tx.insertWorkOrder(wo);
            await tx.appendEvents([event]);
            created.push(rules.toPublic(wo));
          }
          return created;
        }),
      role,
    );
  }

  async get(input: Inputs["get"]): Promise<WorkOrderWithNotes> {
    const { project, id, git } = parse(inputs.get, input);
    await this.sweep(project);
    return this.store.read(async (tx) => {
      const wo = rules.effective(await getOrNotFound(tx, project, id), tx.now());
      const context = await withDependencies(tx, project, await linkedContext(tx, project, id, git), wo.depends_on, git);
      return { ...rules.toPublic(wo), notes: await tx.listNotes(project, id), context, checkpoints: await checkpointsOf(tx, project, id) };
    });
  }

  async list(input: Inputs["list"]): Promise<WorkOrder[]> {
    const q = parse(inputs.list, input);
    await this.sweep(q.project ?? null);
    const statuses = q.status === "all" ? undefined : q.status ? [q.status] : ACTIVE;
    return this.store.read(async (tx) => {
      if (q.project !== undefined) await requireProject(tx, q.project);
      if (q.after !== undefined && q.project === undefined) {
        throw new LedgerError("VALIDATION", "after: pages one project at a time; give a project", { details: { issues: [{ field: "after", message: "needs a project" }] } });
      }
      const rows = await tx.listWorkOrders({ project: q.project, statuses, label: q.label, agent: q.agent, after: q.after, limit: q.limit ?? DEFAULT_LIST_LIMIT });
      return rows.map((w) => rules.toPublic(rules.effective(w, tx.now())));
    });
  }

  async findUnclaimed(input: Inputs["findUnclaimed"]): Promise<Unclaimed[]> {
    const q = parse(inputs.findUnclaimed, input);
    const { project, limit } = q;
    await this.sweep(project);
    return this.store.read(async (tx) => {
      const policy = (await requireProject(tx, project)).policy;
      if (q.stage !== undefined) stageOf(policy, project, q.stage);
      const rows = await tx.claimable(project, limit ?? DEFAULT_FIND_LIMIT, 0, queueFilter(q));
      const live = rows.some((w) => w.files.length) ? await tx.liveLeases(project, tx.now()) : [];
      const checker = new OverlapChecker();
      return rows.map((w) => ({ ...rules.toPublic(w), file_conflicts: conflicts(w, live, checker) }));
    });
  }

  async claim(input: Inputs["claim"]): Promise<ClaimResult> {
    const c = parse(inputs.claim, input);
    const atOnce = this.store.applyRule ? await this.claimAtOnce(c) : null;
    if (atOnce) return atOnce;
    // A retried claim answers its first result only while that lease lives: a lease that ended since is LEASE_LOST, not a success.
    const still = async (tx: Tx, first: ClaimResult): Promise<ClaimResult> => {
      const wo = await readAs(tx, c.project, first.id, c.agent);
      try {
        rules.holding(wo, c.agent, tx.now(), first.lease?.token, true);
      } catch (e) {
        // Resending the same key only ever answers that first claim (tenth trials: the retry kept failing).
        if (!isLedgerError(e) || e.code !== "LEASE_LOST") throw e;
        const hint = `${e.hintTemplate ?? ""}; to claim it again, send a new {{idempotency_key}} or none: this one answers only its first claim`;
        throw new LedgerError(e.code, e.message, { hint, ...(e.details ? { details: e.details } : {}) });
      }
      return { ...first, ...rules.toPublic(wo) };
    };
    return this.write((tx) =>
      once(
        tx,
        "claim",
        c,
        () => this.claimIn(tx, c, c.ttl ?? DEFAULT_TTL_MS),
        (first) => still(tx, first),
      ),
    );
  }

  /**
   * The claim as one statement, where the store compiles the rule
   * (write-rules.ts CLAIM): one round trip on PostgreSQL. Whatever the rule
   * leaves to the full sequence (a retry key, an admin's act, a filter given
   * with an id, an expiry to record, files to check) or refuses, the full
   * sequence does again, and words the refusal: null.
   */
  private async claimAtOnce(c: Parsed["claim"]): Promise<ClaimResult | null> {
    const { project, agent, role, id, git } = c;
    if (c.idempotency_key !== undefined || role === "admin" || (id === undefined ? c.any : c.stage !== undefined || c.labels?.length)) return null;
    const filter = queueFilter(c);
    const { args } = rules.claimEnv(agent, "", c.ttl ?? DEFAULT_TTL_MS, false, { asked: c.max_hold, role }, id === undefined ? filter.can : c.any ? undefined : (c.can ?? []));
    const out = await this.store.applyRule!(CLAIM, id === undefined ? { project, next: filter } : { project, id }, args);
    if (out.verdict !== "applied") return null;
    if (out.event) this.opts.onEvents?.([out.event]);
    const wo = out.after!;
    const context = out.hasContext
      ? await this.store.read(async (tx) => withDependencies(tx, project, await linkedContext(tx, project, wo.id, git), wo.depends_on, git))
      : NO_CONTEXT;
    return { ...rules.toPublic(wo), file_conflicts: [], context };
  }

  /**
   * The holder's `done` as one statement where the store compiles rules
   * (write-rules.ts FINISH_BY_*); null: the full sequence's (see claimAtOnce).
   * Finished unverified, the warning is the core's own words for the state
   * before.
   */
  private async finishAtOnce(r: Parsed["release"] | Parsed["update"], via: "release" | "update"): Promise<Finished | null> {
    const { project, agent, role, id, lease_token } = r;
    if (!this.store.applyRule || r.idempotency_key !== undefined || role === "admin" || r.unverified_reason !== undefined) return null;
    const out = await this.store.applyRule(via === "release" ? FINISH_BY_RELEASE : FINISH_BY_UPDATE, { project, id }, { agent, token: lease_token ?? null });
    if (out.verdict !== "applied") return null;
    if (out.event) this.opts.onEvents?.([out.event]);
    const finished = rules.toPublic(out.after!);
    if (!out.before) return finished;
    // The rule applied, so the project neither requires verification nor has a done stage, and no dependency is pending.
    const finish: rules.Finish = { policy: DEFAULT_POLICY, role, pending: [] };
    const at = out.event!.at;
    const { warnings } =
      via === "release" ? rules.release(out.before, agent, at, "done", lease_token, finish) : rules.update(out.before, agent, at, { status: "done", token: lease_token, finish });
    return warnings?.length ? { ...finished, warnings } : finished;
  }

  private async claimIn(tx: Tx, c: Parsed["claim"], ttlMs: number): Promise<ClaimResult> {
    const { project, agent, role, id, exclusive_files, max_hold, git } = c;
    if (id === undefined) return this.claimNext(tx, c, ttlMs);
    // Sent with the claim's first statement (one round trip on PostgreSQL): the project's default hold cap, and the WO's context.
    const defaults = tx.getProject(project);
    defaults.catch(() => undefined); // awaited below; a failure surfaces there (or the claim's own comes first)
    const context = linkedContext(tx, project, id, git);
    context.catch(() => undefined);
    const wo = await loadForWrite(tx, project, id);
    const now = tx.now(); // read after the row is locked: the clock may have moved while we waited
    // Filters are for claim --next; given with an id they must hold (issue 23, MCP trial: stage=build took a WO in spec).
    const asked = { ...queueFilter(c), can: undefined };
    if (!passes(wo, asked))
      throw new LedgerError("VALIDATION", `${rules.label(id)} is not what was asked for: it is in stage ${wo.stage ?? "(none)"} with labels ${wo.labels.join(", ") || "(none)"}`, {
        hint: "leave out the stage and labels to claim it by id, or {{op:claim}} {{next=true}} with them",
        details: { issues: [{ field: c.stage !== undefined ? "stage" : "labels", message: "the work order does not match" }], stage: wo.stage, labels: wo.labels },
      });
    const hold = { asked: max_hold, projectDefault: (await defaults)?.policy.max_hold_ms ?? null, role };
    const change = rules.claim(wo, agent, now, ttlMs, await tx.notDoneOf(project, wo.depends_on), hold, c.any ? undefined : (c.can ?? []));
    // Leases are only read (and on PostgreSQL, the project's lease lock only taken) when files can clash.
    const file_conflicts = wo.files.length ? conflicts(wo, await tx.liveLeases(project, now), new OverlapChecker()) : [];
    if (exclusive_files && file_conflicts.length) throw fileConflict(wo, file_conflicts);
    await persist(tx, change);
    return { ...rules.toPublic(change.next), file_conflicts, context: await withDependencies(tx, project, await context, wo.depends_on, git) };
  }

  private async claimNext(tx: Tx, c: Parsed["claim"], ttlMs: number): Promise<ClaimResult> {
    const { project, agent, role, max_hold: maxHold, git } = c;
    if (c.any)
      throw new LedgerError("VALIDATION", "any: only with an id: say which work order you know you can do (claim --next takes only work that fits)", {
        details: { issues: [{ field: "any", message: "needs an id" }] },
      });
    const filter = queueFilter(c);
    // One read (one statement on PostgreSQL). The first candidate is only good if
    // no lease had lapsed: an expiry returns a WO to the queue, maybe ahead of it,
    // so then the probe starts again.
    const { exists, lapsed, first, hasContext, maxHoldMs } = await tx.claimProbe(project, SWEEP_BATCH, filter);
    if (!exists) throw projectNotFound(project, nearMisses(project, await tx.projectNames()));
    if (lapsed.length) await recordExpiries(tx, project, lapsed);
    let live: StoredWorkOrder[] | undefined;
    const checker = new OverlapChecker();
    const skipped: number[] = [];
    // One candidate at a time: on PostgreSQL each probe locks (SKIP LOCKED) only the row it returns,
    // so concurrent workers each get a different WO instead of skipping each other's pages.
    for (let offset = 0; ; offset++) {
      const w = offset === 0 && !lapsed.length ? first : (await tx.claimable(project, 1, offset, filter))[0];
      if (!w) break;
      if (w.files.length) {
        live ??= await tx.liveLeases(project, tx.now());
        if (conflicts(w, live, checker).length) {
          skipped.push(w.id); // claim --next never takes a WO whose files someone holds
          continue;
        }
      }
      const change = rules.claim(w, agent, tx.now(), ttlMs, [], { asked: maxHold, projectDefault: maxHoldMs, role }, filter.can);
      const context = hasContext ? await withDependencies(tx, project, await linkedContext(tx, project, w.id, git), w.depends_on, git) : NO_CONTEXT;
      await persist(tx, change);
      return { ...rules.toPublic(change.next), file_conflicts: [], context };
    }
    const wanted = filterWords(c);
    if (skipped.length) {
      const some = skipped.slice(0, 10).map(rules.label).join(", ");
      throw new LedgerError(
        "NOTHING_TO_CLAIM",
        `no unclaimed work order in project ${project}${wanted} is free to take: ${some} touch files someone holds (their file_conflicts)`,
        {
          hint: "wait for those files to be released, or {{op:claim}} one of them by id to accept the overlap",
          details: { project, touching_held_files: skipped },
        },
      );
    }
    if (c.stage !== undefined) stageOf(await policyOf(tx, project), project, c.stage);
    // An agent that forgot to declare what it can do should learn that work is waiting for it.
    const [unfit] = filter.can ? await tx.claimable(project, 1, 0, { ...filter, can: undefined }) : [];
    throw new LedgerError("NOTHING_TO_CLAIM", `no unclaimed work order in project ${project}${wanted} is free to take`, {
      hint: unfit
        ? `${rules.label(unfit.id)} waits for an agent that can ${unfit.requires.join(", ")}: declare the capabilities you have, or try again later`
        : "all open work is claimed or waiting on dependencies; try again later or {{op:create}} work",
      details: { project, ...(unfit ? { needs_capabilities: { id: unfit.id, requires: unfit.requires } } : {}) },
    });
  }

  async renew(input: Inputs["renew"]): Promise<Renewed> {
    const r = parse(inputs.renew, input);
    const { project, agent, id, ttl, lease_token, keepalive, idle_ms } = r;
    return this.write((tx) =>
      once(tx, "renew", r, async (): Promise<Renewed> => {
        const wo = await loadAs(tx, project, id, agent);
        // A keep-alive says how long its agent has been idle; past the project's limit it ends the lease instead.
        const limit = keepalive && idle_ms !== undefined ? (await policyOf(tx, project)).idle_limit_ms : null;
        if (limit !== null && idle_ms! > limit) {
          const ended = rules.endIdle(wo, agent, tx.now(), lease_token, idle_ms!, limit);
          await persist(tx, ended);
          return { ...rules.toPublic(ended.next), ended: { reason: "idle", idle_ms: idle_ms!, idle_limit_ms: limit } };
        }
        const change = rules.renew(wo, agent, tx.now(), ttl, lease_token, keepalive);
        await persist(tx, change);
        return rules.toPublic(change.next);
      }),
    );
  }

  /**
   * Renews every live lease the caller holds in the project, each by its own
   * length unless a TTL is given; a lease that cannot be renewed (its hold
   * cap) is reported, not fatal.
   */
  async renewAll(input: Inputs["renewAll"]): Promise<RenewAllResult> {
    const { project, agent, ttl, keepalive } = parse(inputs.renewAll, input);
    return this.write(async (tx) => {
      await requireProject(tx, project);
      const out: RenewAllResult = { renewed: [], refused: [] };
      for (const held of (await tx.liveLeases(project, tx.now())).filter((w) => w.lease?.agent === agent)) {
        try {
          const change = rules.renew(await loadForWrite(tx, project, held.id), agent, tx.now(), ttl, undefined, keepalive);
          await persist(tx, change);
          out.renewed.push(rules.toPublic(change.next));
        } catch (e) {
          if (!isLedgerError(e)) throw e;
          out.refused.push({ id: held.id, error: e.toJSON() });
        }
      }
      return out;
    });
  }

  async release(input: Inputs["release"]): Promise<Finished> {
    const r = parse(inputs.release, input);
    const { project, agent, role, id, status, note, lease_token, unverified_reason, spend, stage } = r;
    if (status === "blocked" && !note?.trim()) {
      // The next agent (or a person) must learn what blocks it; a bare "blocked" says nothing.
      throw new LedgerError("VALIDATION", "note: required when releasing as blocked: say what blocks it", {
        hint: "{{op:release}} {{status=blocked}} {{note=what fails or what is missing}}",
        details: { issues: [{ field: "note", message: "required with status blocked" }] },
      });
    }
    if (status === "done" && note === undefined && spend === undefined && stage === undefined) {
      const atOnce = await this.finishAtOnce(r, "release");
      if (atOnce) return atOnce;
    }
    return this.write(
      (tx) =>
        once(tx, "release", r, async () => {
          let wo = await loadAs(tx, project, id, agent);
          // Spend given with the release goes against the attempt it ends, before it ends (a cap it reaches then decides where the WO goes).
          let spent: string[] = [];
          if (spend !== undefined) {
            rules.holding(wo, agent, tx.now(), lease_token, true);
            const r = await spendIn(tx, wo, { ...spend, project, agent, role, id, lease_token });
            wo = r.next;
            spent = r.result.warnings ?? [];
          }
          if (stage !== undefined) assertStageMove(await policyOf(tx, project), wo, stage, role);
          const finish = status === "done" ? await finishing(tx, wo, role, unverified_reason) : undefined;
          const change = rules.release(wo, agent, tx.now(), status, lease_token, finish, stage);
          await persist(tx, change);
          await noteOverride(tx, change, agent);
          if (note !== undefined) await appendNote(tx, change.next, { agent, body: note, kind: status === "blocked" ? "blocker" : "progress" });
          const out = finished(change);
          return spent.length ? { ...out, warnings: [...spent, ...(out.warnings ?? [])] } : out;
        }),
      role,
    );
  }

  async update(input: Inputs["update"]): Promise<Finished> {
    const u = parse(inputs.update, input);
    const { project, agent, role, id, fields, status, note, if_revision, lease_token, unverified_reason, stage } = u;
    const hasFields = fields !== undefined && Object.values(fields).some((v) => v !== undefined);
    if (!hasFields && status === undefined && note === undefined && stage === undefined) {
      throw new LedgerError("VALIDATION", "nothing to update: give at least one field, a status, a stage or a note", {
        hint: "e.g. {{status=done}}, or {{title=…}}",
        details: { issues: [{ field: "", message: "no change requested" }] },
      });
    }
    if (status === "done" && !hasFields && note === undefined && stage === undefined && if_revision === undefined) {
      const atOnce = await this.finishAtOnce(u, "update");
      if (atOnce) return atOnce;
    }
    return this.write(
      (tx) =>
        once(tx, "update", u, async () => {
          const wo = await loadAs(tx, project, id, agent);
          if (fields?.verification !== undefined && fields.verification !== wo.verification) {
            assertMayAuthor(await policyOf(tx, project), project, agent, role, wo);
          }
          if (fields?.depends_on?.includes(id))
            throw new LedgerError("VALIDATION", `depends_on: ${rules.label(id)} cannot depend on itself`, {
              details: { issues: [{ field: "depends_on", message: "names the work order itself" }] },
            });
          if (fields?.depends_on !== undefined) {
            const dropped = wo.depends_on.filter((d) => !fields.depends_on?.includes(d));
            if (dropped.length) rules.assertMayDropDependencies(wo, agent, role, await tx.notDoneOf(project, dropped));
          }
          const caps = CAP_FIELDS.filter((c) => fields?.[c] !== undefined && fields[c] !== wo[c]);
          if (caps.length && role !== "admin") {
            throw new LedgerError("FORBIDDEN", `only admins may change the budget of ${rules.label(id)} (${caps.join(", ")})`, {
              hint: "ask an admin; a budget is set when the work order is created",
              details: { project, id, fields: caps },
            });
          }
          if (fields?.depends_on?.length) {
            const bad = await tx.missingOf(project, fields.depends_on);
            if (bad.length)
              throw new LedgerError("VALIDATION", `depends_on: ${bad.map(rules.label).join(", ")} is not another work order of project ${project}`, {
                details: { issues: [{ field: "depends_on", message: "unknown work order" }] },
              });
            const loop = await dependencyPath(tx, project, fields.depends_on, id);
            if (loop)
              throw new LedgerError("VALIDATION", `depends_on: would make a cycle ${[id, ...loop].map(rules.label).join(" → ")}`, {
                hint: "a work order in a dependency cycle can never be claimed",
                details: { issues: [{ field: "depends_on", message: "cycle" }] },
              });
          }
          if (stage !== undefined) assertStageMove(await policyOf(tx, project), wo, stage, role);
          const finish = status === "done" ? await finishing(tx, wo, role, unverified_reason) : undefined;
          const change = rules.update(wo, agent, tx.now(), { role, fields, status, stage, ifRevision: if_revision, token: lease_token, finish });
          await persist(tx, change);
          await noteOverride(tx, change, agent);
          if (note !== undefined) await appendNote(tx, change.next, { agent, body: note, kind: status === "blocked" ? "blocker" : "progress" });
          return finished(change);
        }),
      role,
    );
  }

  async addNote(input: Inputs["addNote"]): Promise<Note> {
    const n = parse(inputs.addNote, input);
    const { project, agent, role, id, kind, body } = n;
    return this.write(
      (tx) =>
        once(tx, "addNote", n, async () => {
          const wo = await loadAs(tx, project, id, agent);
          // Anyone may comment, except a lapsed holder, whose words must not pass for the new holder's:
          // fenced by name, and by the token its door remembers (another session of the same agent may hold it now).
          rules.assertNotFenced(wo, agent, tx.now(), n.lease_token);
          // A verification result is evidence others rely on: only the holder or an admin records one.
          if (kind === "verification") verifierOf(wo, agent, role, tx.now(), undefined);
          return appendNote(tx, wo, { agent, body, kind: kind ?? "progress" });
        }),
      role,
    );
  }

  /**
   * The WO the caller holds a live lease on (refused otherwise, as a holder's
   * write would be), with its checkpoints: what worktree and checkpoint ask
   * before they touch git, so a lapsed holder is stopped before it commits.
   */
  async holding(input: Inputs["holding"]): Promise<Held> {
    const { project, id, agent, lease_token } = parse(inputs.holding, input);
    await this.sweep(project);
    return this.store.read(async (tx) => {
      const wo = await readAs(tx, project, id, agent);
      rules.holding(wo, agent, tx.now(), lease_token, true);
      return { ...rules.toPublic(wo), lease: wo.lease!, checkpoints: await checkpointsOf(tx, project, id) };
    });
  }

  /**
   * Records a checkpoint commit under the caller's live lease (the door made
   * the commit and moves the branch to it only once this succeeds). Not a
   * change of the WO's fields: its revision stays.
   */
  async recordCheckpoint(input: Inputs["checkpoint"]): Promise<CheckpointResult> {
    const c = parse(inputs.checkpoint, input);
    return this.write(
      (tx) =>
        once(tx, "recordCheckpoint", c, async () => {
          const wo = await loadAs(tx, c.project, c.id, c.agent);
          rules.holding(wo, c.agent, tx.now(), c.lease_token, true);
          const checkpoint: Checkpoint = { commit: c.commit, agent: c.agent, token: wo.lease!.token, at: tx.now(), message: c.message };
          const { commit, token, message } = checkpoint;
          await tx.appendEvents([
            { project: c.project, wo: c.id, type: "checkpoint", agent: c.agent, revision: wo.revision, at: checkpoint.at, data: { commit, token, message, branch: wo.branch } },
          ]);
          return { checkpoint, work_order: rules.toPublic(wo) };
        }),
      c.role,
    );
  }

  // Webhook subscriptions (core/webhooks.ts): an admin's; serve's deliverer uses the methods after these.

  async webhookAdd(input: Inputs["webhookAdd"]): Promise<PublicWebhook & { secret: string }> {
    const w = parse(inputs.webhookAdd, input);
    assertAdmin(w.role, "subscribe a URL to the ledger's events", WEBHOOKS_ARE_ADMINS);
    const allowPrivate = w.allow_private ?? false;
    const bad = urlProblem(w.url) ?? (await destinationRefused(new URL(w.url), allowPrivate, this.opts.resolveHost));
    if (bad !== null)
      throw new LedgerError("VALIDATION", `url: ${bad}; nothing was stored`, {
        hint: "give an http(s) URL on the public internet (or, for a private one, allow_private as an admin)",
        details: { issues: [{ field: "url", message: bad }] },
      });
    return this.write(async (tx) => {
      if (w.project !== undefined) await requireProject(tx, w.project);
      const hook: Webhook = {
        id: newWebhookId(),
        url: w.url,
        format: w.format ?? "standard",
        events: [...new Set(w.events)],
        project: w.project ?? null,
        secret: newWebhookSecret(),
        allow_private: allowPrivate,
        state: "active",
        cursor: await tx.lastEventSeq(w.project ?? null), // what happens from now on
        created_by: w.agent,
        created_at: tx.now(),
        health: NO_HEALTH,
        owner: null,
        owner_until: null,
      };
      await tx.insertWebhook(hook);
      return { ...toPublicWebhook(hook), secret: hook.secret };
    });
  }

  async webhookList(input: Inputs["webhookList"]): Promise<PublicWebhook[]> {
    assertAdmin(parse(inputs.webhookList, input).role, "list webhook subscriptions", WEBHOOKS_ARE_ADMINS);
    return this.store.read(async (tx) => (await tx.listWebhooks()).map(toPublicWebhook));
  }

  webhookPause(input: Inputs["webhook"]): Promise<PublicWebhook> {
    return this.webhookChange(input, "pause", (w) => ({ ...w, state: "paused", owner: null, owner_until: null }));
  }

  webhookResume(input: Inputs["webhook"]): Promise<PublicWebhook> {
    return this.webhookChange(input, "resume", (w) => ({ ...w, state: "active", health: { ...w.health, failures: 0, failing_since: null } }));
  }

  webhookTest(input: Inputs["webhook"]): Promise<PublicWebhook> {
    return this.webhookChange(input, "test", (w, now) => ({ ...w, health: { ...w.health, test_requested_at: now } }));
  }

  async webhookDelete(input: Inputs["webhook"]): Promise<{ id: string; deleted: true }> {
    const { id, role } = parse(inputs.webhook, input);
    assertAdmin(role, `delete webhook subscription ${id}`, WEBHOOKS_ARE_ADMINS);
    return this.write(async (tx) => {
      if (!(await tx.deleteWebhook(id))) throw webhookNotFound(id);
      return { id, deleted: true as const };
    });
  }

  private async webhookChange(input: Inputs["webhook"], what: string, change: (w: Webhook, now: string) => Webhook): Promise<PublicWebhook> {
    const { id, role } = parse(inputs.webhook, input);
    assertAdmin(role, `${what} webhook subscription ${id}`, WEBHOOKS_ARE_ADMINS);
    return this.write(async (tx) => {
      const w = await tx.getWebhook(id);
      if (w === null) throw webhookNotFound(id);
      const next = change(w, tx.now());
      await tx.saveWebhook(next);
      return toPublicWebhook(next);
    });
  }

  /**
   * The subscriptions deliverer `owner` may send for now (active ones, and
   * any with a test asked for), each taken under the ledger's own lease for
   * `leaseMs` (webhooks.mayDeliver): another deliverer gets one only after
   * its holder stopped renewing it.
   */
  async webhooksToDeliver(owner: string, leaseMs: number): Promise<Webhook[]> {
    // Read first, so a poll that finds nothing to take writes nothing; the take itself is judged again under the row's lock.
    const candidates = await this.store.read(async (tx) => {
      const now = tx.now();
      return (await tx.listWebhooks()).filter((w) => mayDeliver(w, owner, now));
    });
    const out: Webhook[] = [];
    for (const { id } of candidates) {
      const taken = await this.webhookProgress(id, owner, leaseMs, (w) => w, true);
      if (taken) out.push(taken);
    }
    return out;
  }

  /**
   * Applies `change` (a rule of webhooks.ts, given the ledger's now) to a
   * subscription deliverer `owner` holds, renewing its lease; null when it
   * does not hold it (any more), or an admin paused it: stop sending for it.
   */
  async webhookProgress(id: string, owner: string, leaseMs: number, change: (w: Webhook, now: string) => Webhook, take = false): Promise<Webhook | null> {
    return this.write(async (tx) => {
      const w = await tx.getWebhook(id);
      const now = tx.now();
      if (w === null) return null;
      if (take ? !mayDeliver(w, owner, now) : w.owner !== owner) return null;
      const next = change({ ...w, owner, owner_until: new Date(Date.parse(now) + leaseMs).toISOString() }, now);
      await tx.saveWebhook(next);
      return next;
    });
  }

  /** Events after a subscription's cursor, in delivery order (as watch reads them). */
  async webhookEvents(w: Webhook, limit: number): Promise<LedgerEvent[]> {
    return this.store.read((tx) => followed(tx, w.project, w.cursor, limit));
  }

  /** Lets go of every subscription `owner` holds (a server shutting down), so another server takes them at once. */
  async webhooksRelease(owner: string): Promise<void> {
    for (const { id, owner: o } of await this.store.read((tx) => tx.listWebhooks())) {
      if (o === owner) await this.webhookProgress(id, owner, 0, (w) => ({ ...w, owner: null, owner_until: null }));
    }
  }

  /** Whether each commit was made while the lease its trailers name was live (core/commits.ts). */
  async checkCommits(input: Inputs["checkCommits"]): Promise<CommitVerdict[]> {
    const { project, commits } = parse(inputs.checkCommits, input);
    await this.sweep(project);
    return this.store.read(async (tx) => {
      await requireProject(tx, project);
      const seen = new Map<number, { wo: StoredWorkOrder | null; attempts: Attempt[] }>();
      const out: CommitVerdict[] = [];
      for (const c of commits) {
        let known = seen.get(c.id);
        if (known === undefined) {
          const wo = await tx.getWorkOrder(project, c.id);
          known = { wo, attempts: wo ? await tx.listAttempts({ project, wo: c.id, limit: MAX_ROWS }) : [] };
          seen.set(c.id, known);
        }
        const attempt = known.attempts.find((a) => a.token === c.token);
        out.push(judgeCommit({ commit: c.commit ?? null, project, id: c.id, token: c.token, at: c.at ?? tx.now() }, known.wo, attempt, tx.now()));
      }
      return out;
    });
  }

  /**
   * The command the caller's verify may run now: the one pinned when its lease
   * began (refused if someone changed it since), or for an admin the current
   * one. Nothing is written; the door runs it, then calls recordVerification.
   */
  async verifyCommand(input: Inputs["verifyCommand"]): Promise<VerifyCommand> {
    const { project, agent, role, id, lease_token, trust } = parse(inputs.verifyCommand, input);
    return this.store.read(async (tx) => {
      const wo = await readAs(tx, project, id, agent);
      const { command } = commandToRun(wo, agent, role, tx.now(), lease_token);
      const policy = await policyOf(tx, project);
      assertTrusted(policy, wo, agent, wo.verification_by, trust === true);
      return {
        project,
        id,
        command,
        author: wo.verification_by,
        sandbox: { required: policy.require_sandbox, network: policy.verification_network, env: policy.verification_env },
      };
    });
  }

  /** Records the outcome of running a WO's verification command (the door runs it), by its holder or an admin. */
  async recordVerification(input: Inputs["verification"]): Promise<VerificationResult> {
    const v = parse(inputs.verification, input);
    return this.write(
      (tx) =>
        once(tx, "recordVerification", v, async () => {
          let wo = await loadAs(tx, v.project, v.id, v.agent);
          const { command: allowed, as } = commandToRun(wo, v.agent, v.role, tx.now(), v.lease_token);
          if (v.command !== allowed) {
            throw new LedgerError(
              "VERIFICATION_CHANGED",
              `the command that ran is not the one ${rules.label(wo.id)} lets you verify with now (${JSON.stringify(allowed)}); nothing was recorded`,
              {
                hint: "{{op:verify}} again: it runs the command the work order lets you run",
                details: { project: v.project, id: wo.id, ran: v.command, current: allowed },
              },
            );
          }
          const policy = await policyOf(tx, v.project);
          const sandbox = v.sandbox ?? "none";
          if (sandbox === "none") sandboxFor(policy.require_sandbox, wo, "none", "the result says it ran without one");
          const git = v.git ?? null;
          const verdict = v.passed ? "PASSED" : `FAILED (exit ${v.exit_code ?? "timeout"})`;
          const where = git ? ` at ${git.head.slice(0, 12)}${git.branch ? ` (${git.branch}${git.dirty ? ", dirty" : ""})` : ""}` : "";
          const by = as === "admin" ? `${v.agent} (admin, not the holder)` : v.agent;
          const dir = v.dir ?? null;
          const body =
            `verification ${verdict} in ${(v.duration_ms / 1000).toFixed(1)}s (sandbox: ${sandbox}) by ${by}${where}${dir ? ` in ${dir}` : ""}: ${v.command}\n${v.output_tail}`.trimEnd();
          // The result counts for `done` (rules.checkDone) only under the lease it was recorded in.
          const underLease = rules.isLive(wo.lease, tx.now()) && wo.lease.agent === v.agent ? wo.lease.token : null;
          const record = { passed: v.passed, agent: v.agent, at: tx.now(), token: underLease, command: v.command };
          const recorded = { ...wo, last_verification: rules.verificationRecord(wo.last_verification, record, { dir: v.dir, branch: v.git?.branch }, wo.branch) };
          await tx.saveWorkOrder(recorded, wo);
          wo = recorded;
          let block_refused: ErrorBody | undefined;
          if (!v.passed && v.block_on_fail) {
            // A refused block (someone else holds it, or it is done) must not cost the recorded result.
            try {
              const change = rules.update(wo, v.agent, tx.now(), { role: v.role, status: "blocked", token: v.lease_token, via: "verify" });
              await persist(tx, change);
              wo = change.next;
            } catch (e) {
              if (!isLedgerError(e)) throw e;
              block_refused = e.toJSON();
            }
          }
          const note = await appendNote(tx, wo, { agent: v.agent, body, kind: "verification", data: { passed: v.passed } });
          return { passed: v.passed, command: v.command, dir, git, sandbox, work_order: rules.toPublic(wo), note, ...(block_refused ? { block_refused } : {}) };
        }),
      v.role,
    );
  }

  /**
   * Records spend against an attempt (DESIGN.md §10): the caller's current
   * one, or after it ended its latest (agents report after finishing), or the
   * one its token names. With a source the figures are that source's running
   * totals and only their growth is recorded, so a transcript read twice
   * counts once. Append-only.
   */
  async spend(input: Inputs["spend"]): Promise<SpendResult> {
    const s = parse(inputs.spend, input);
    return this.write((tx) => once(tx, "spend", s, async () => (await spendIn(tx, await loadForWrite(tx, s.project, s.id), s)).result), s.role);
  }

  /** Attempts oldest first (of a WO, or of the project: an agent's, recent ones), each with its length and spend. */
  async attempts(input: Inputs["attempts"]): Promise<AttemptView[]> {
    const q = parse(inputs.attempts, input);
    await this.sweep(q.project);
    return this.store.read(async (tx) => {
      if (q.id !== undefined) await getOrNotFound(tx, q.project, q.id);
      else await requireProject(tx, q.project);
      const since = q.since === undefined ? undefined : new Date(Date.parse(tx.now()) - q.since).toISOString();
      const list = await tx.listAttempts({ project: q.project, wo: q.id, agent: q.agent, since, limit: q.limit ?? DEFAULT_LIST_LIMIT });
      const from = list[0]?.started_at;
      const totals = new Map<string, SpendTotals>();
      for (const r of from === undefined ? [] : await tx.listSpend({ project: q.project, wo: q.id, since: from, limit: MAX_ROWS }))
        totals.set(`${r.wo}#${r.token}`, addSpend(totals.get(`${r.wo}#${r.token}`) ?? NO_SPEND, r));
      return list.map((a) => ({
        ...a,
        duration_ms: a.ended_at === null ? null : Date.parse(a.ended_at) - Date.parse(a.started_at),
        spend: totals.get(`${a.wo}#${a.token}`) ?? NO_SPEND,
      }));
    });
  }

  /** Spend, attempts and outcomes of a project over a window, grouped (see report.ts). */
  async report(input: Inputs["report"]): Promise<Report> {
    const r = parse(inputs.report, input);
    await this.sweep(r.project);
    return this.store.read(async (tx) => {
      await requireProject(tx, r.project);
      const until = tx.now();
      const since = new Date(Date.parse(until) - (r.since ?? 7 * 86_400_000)).toISOString();
      const attempts = await tx.listAttempts({ project: r.project, since, limit: MAX_ROWS });
      const spend = await tx.listSpend({ project: r.project, since, limit: MAX_ROWS });
      const ids = [...new Set([...attempts.map((a) => a.wo), ...spend.map((s) => s.wo)])];
      const labels = new Map((await tx.labelsOf(r.project, ids)).map((l) => [l.id, l.labels]));
      const report = buildReport(r.project, since, until, r.by ?? "agent", { attempts, spend, labels });
      // Bounded in memory: past MAX_ROWS of either, the report covers the newest and says so.
      return attempts.length === MAX_ROWS || spend.length === MAX_ROWS ? { ...report, truncated: true } : report;
    });
  }

  async contextPut(input: Inputs["contextPut"]): Promise<ContextEntry> {
    const c = parse(inputs.contextPut, input);
    return this.write(
      (tx) =>
        once(tx, "contextPut", c, async () => {
          const now = tx.now();
          await projectForWrite(tx, c.project, c.new_project === true);
          if (c.id !== undefined) {
            rules.assertMayLinkContext(await loadAs(tx, c.project, c.id, c.agent), c.agent, c.role, now, c.lease_token);
          } else if (c.role !== "admin") {
            await recordExpiries(tx, c.project);
            rules.assertNotLapsedSince(await tx.listAttempts({ project: c.project, agent: c.agent, limit: 20 }), c.agent, c.project);
          }
          const entry = await tx.insertContext({
            project: c.project,
            key: c.key ?? "handover",
            body: c.body,
            agent: c.agent,
            wo: c.id ?? null,
            created_at: now,
            git: c.git ?? null,
          });
          await tx.appendEvents([
            { project: c.project, wo: entry.wo, type: "context_put", agent: c.agent, revision: null, at: now, data: { key: entry.key, context_id: entry.id } },
          ]);
          return entry;
        }),
      c.role,
    );
  }

  /** Newest context per key (of those linked to WO `id`, when given), each with its freshness. */
  async contextPull(input: Inputs["contextPull"]): Promise<ContextPull> {
    const c = parse(inputs.contextPull, input);
    return this.store.read(async (tx) => {
      await requireProject(tx, c.project);
      const rows = await tx.latestContext(c.project, c.key ?? null, c.id ?? null);
      return pulled(c.project, rows, tx.now(), c.max_age, c.git);
    });
  }

  /** Every entry newest first, in the same shape as contextPull (its verdict is the newest entry's). */
  async contextHistory(input: Inputs["contextPull"]): Promise<ContextPull> {
    const c = parse(inputs.contextPull, input);
    return this.store.read(async (tx) => {
      await requireProject(tx, c.project);
      const rows = await tx.contextHistory(c.project, c.key ?? null, c.limit ?? DEFAULT_LIST_LIMIT, c.id ?? null);
      const all = pulled(c.project, rows, tx.now(), c.max_age, c.git);
      return { ...all, verdict: all.entries[0]?.verdict ?? "none" };
    });
  }

  async history(input: Inputs["history"]): Promise<LedgerEvent[]> {
    const h = parse(inputs.history, input);
    await this.sweep(h.project);
    return this.store.read(async (tx) => {
      await requireProject(tx, h.project);
      if (h.id !== undefined) await getOrNotFound(tx, h.project, h.id);
      // Limited without a cursor: the newest events (what an agent asking for "the last 5" means); with `after`, the next ones.
      return tx.listEvents(h.project, h.id ?? null, h.after ?? 0, h.limit ?? 1000, h.after === undefined && h.limit !== undefined);
    });
  }

  /**
   * The event log after a sequence number, across projects unless one is given
   * (watch, SSE). Resume from the seq of the last event received: on
   * PostgreSQL the stream is gap-free but not in seq order (storage/postgres/tx.ts).
   */
  async events(input: Inputs["events"]): Promise<LedgerEvent[]> {
    const q = parse(inputs.events, input);
    await this.sweep(q.project ?? null);
    return this.store.read((tx) => followed(tx, q.project ?? null, q.after ?? 0, q.limit ?? 1000));
  }

  /** Sequence number of the newest event, so a watcher can start from "now". */
  lastEventSeq(project?: string): Promise<number> {
    return this.store.read((tx) => tx.lastEventSeq(project ?? null));
  }

  /**
   * Records `expired` events for lapsed leases before a read. Only takes the
   * write lock when something is actually due, so reads stay cheap.
   */
  private async sweep(project: string | null): Promise<void> {
    const due = await this.store.read((tx) => tx.expiredLeases(project, 1));
    if (due.length) await this.write((tx) => recordExpiries(tx, project));
  }
}
