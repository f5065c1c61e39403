/**
 * The ledger service: every operation validates its input with the shared
 * schemas, loads records through the storage port, applies the rules of
 * rules.ts (or has the store apply them in one statement: write-rules.ts) and
 * persists the result in one transaction. The operations live in service/,
 * one module per concern; this class sequences what they share (the write
 * transaction, the lazy expiry sweep, the record of refused writes). Every
 * door calls it (or the remote client that mirrors it); none re-implements a
 * rule.
 */
import type { CommitVerdict } from "./commits.js";
import { isLedgerError, LedgerError } from "./errors.js";
import { pollEvents, type FollowOptions } from "./follow.js";
import type { BackupResult, Store, StoreInfo, Tx } from "./port.js";
import type { Report } from "./report.js";
import { inputs, type Inputs } from "./schemas.js";
import { collecting, recordExpiries } from "./steps.js";
import { TokenCache, type TokenLookup } from "./token-cache.js";
import { assertAdmin, Tokens, type PublicToken } from "./tokens.js";
import type { ContextEntry, LedgerEvent, NewEvent, Note, Project, ProjectSummary, Role, WorkOrder } from "./types.js";
import { parse } from "./validate.js";
import { type PublicWebhook, type Webhook } from "./webhooks.js";
import * as projectOps from "./service/projects.js";
import * as workOrders from "./service/work-orders.js";
import * as claims from "./service/claims.js";
import * as finishing from "./service/finishing.js";
import * as checkpoints from "./service/checkpoints.js";
import * as webhooks from "./service/webhooks.js";
import * as verifications from "./service/verifications.js";
import * as spending from "./service/spending.js";
import * as insights from "./service/insights.js";
import type { Attention, Roster } from "./insights.js";
import type { Flow } from "./flow.js";
import * as handoff from "./service/handoff.js";
import * as archive from "./service/archive.js";
import type { ArchiveLine, ExportSummary, ImportSummary } from "./service/archive.js";
import * as retention from "./service/retention.js";
import type { PruneSummary } from "./service/retention.js";
import type {
  WorkOrderWithNotes,
  Held,
  CheckpointResult,
  Unclaimed,
  ClaimResult,
  ContextPull,
  VerificationResult,
  VerifyCommand,
  Renewed,
  Finished,
  SpendResult,
  AttemptView,
  RenewAllResult,
  Health,
  LedgerOptions,
} from "./service/results.js";
import { followed, type Service } from "./service/shared.js";

export type { WoContext } from "./context.js";
export type * from "./service/results.js";
export { MAX_ROWS } from "./service/shared.js";

/** A lapsed agent that keeps writing is recorded once a minute per WO, not once per attempt. */
const REFUSALS_RECORDED_EVERY_MS = 60_000;

export class Ledger {
  /** API token administration (used by serve and the token commands). */
  readonly tokens: Tokens;
  /** How serve looks a presented token up (cached where the store asked for it). */
  readonly tokenLookup: TokenLookup;
  /** The caller names itself (agent, and no role: trusted like an admin); a remote ledger knows its caller by token. */
  readonly knowsCaller: boolean = false;
  /** What the operations (service/*.ts) run with. */
  private readonly svc: Service;

  constructor(
    private readonly store: Store,
    private readonly opts: LedgerOptions = {},
  ) {
    this.tokens = new Tokens(store);
    this.tokenLookup = opts.tokenCacheMs ? new TokenCache(this.tokens, opts.tokenCacheMs) : this.tokens;
    this.svc = { store, opts, write: (fn, role) => this.write(fn, role), sweep: (project) => this.sweep(project) };
  }

  /** Writes the ledger (or one project) as JSON Lines, a line at a time (issue 29): an admin's act. */
  exportLedger(input: { project?: string | undefined; role: Role }, out: (line: ArchiveLine) => Promise<void>): Promise<ExportSummary> {
    return archive.exportLedger(this.svc, input, out);
  }

  /** Loads an export into this ledger, one transaction per project, into projects that are new or empty here: an admin's act. */
  importLedger(input: { role: Role }, lines: AsyncIterable<string>): Promise<ImportSummary> {
    return archive.importLedger(this.svc, input, lines);
  }

  /** Removes the history of WOs finished before a cutoff, handing it to `archive` first (issue 29): an admin's act. */
  prune(input: Inputs["prune"], archive: (lines: ArchiveLine[]) => Promise<void>): Promise<PruneSummary> {
    return retention.prune(this.svc, input, archive);
  }

  /** A consistent copy of a SQLite ledger while agents write (issue 29): an admin's act. */
  backup(input: { file: string; role: Role }, onStart?: (bytes: number) => void): Promise<BackupResult> {
    assertAdmin(input.role, "back up the ledger", "the copy holds every project's work and the tokens' records");
    if (!this.store.backup)
      throw new LedgerError("VALIDATION", `backup copies a SQLite ledger; this one is ${this.store.info.kind} (${this.store.info.location})`, {
        hint: "back up PostgreSQL with its own tools: pg_dump, pg_basebackup, or a standby (README: Backups)",
      });
    return this.store.backup(input.file, onStart);
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
    const schema = opts.integrity === false || !this.store.schemaDrift ? undefined : await this.store.schemaDrift();
    return this.store.read(async (tx) => ({ store: this.store.info, integrity, ...(schema ? { schema } : {}), now: tx.now(), last_event_at: await tx.lastEventAt() }));
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

  // The operations, each in its service module (their documentation is there).

  // projects.ts
  createProject(input: Inputs["createProject"]): Promise<Project & { created: boolean }> {
    return projectOps.createProject(this.svc, input);
  }

  setPolicy(input: Inputs["setPolicy"]): Promise<Project> {
    return projectOps.setPolicy(this.svc, input);
  }

  projects(input: Inputs["projects"] = {}): Promise<ProjectSummary[]> {
    return projectOps.projects(this.svc, input);
  }

  // work-orders.ts
  create(input: Inputs["create"]): Promise<WorkOrder[]> {
    return workOrders.create(this.svc, input);
  }

  get(input: Inputs["get"]): Promise<WorkOrderWithNotes> {
    return workOrders.get(this.svc, input);
  }

  list(input: Inputs["list"]): Promise<WorkOrder[]> {
    return workOrders.list(this.svc, input);
  }

  findUnclaimed(input: Inputs["findUnclaimed"]): Promise<Unclaimed[]> {
    return workOrders.findUnclaimed(this.svc, input);
  }

  history(input: Inputs["history"]): Promise<LedgerEvent[]> {
    return workOrders.history(this.svc, input);
  }

  // claims.ts
  claim(input: Inputs["claim"]): Promise<ClaimResult> {
    return claims.claim(this.svc, input);
  }

  renew(input: Inputs["renew"]): Promise<Renewed> {
    return claims.renew(this.svc, input);
  }

  renewAll(input: Inputs["renewAll"]): Promise<RenewAllResult> {
    return claims.renewAll(this.svc, input);
  }

  // finishing.ts
  release(input: Inputs["release"]): Promise<Finished> {
    return finishing.release(this.svc, input);
  }

  update(input: Inputs["update"]): Promise<Finished> {
    return finishing.update(this.svc, input);
  }

  addNote(input: Inputs["addNote"]): Promise<Note> {
    return finishing.addNote(this.svc, input);
  }

  // checkpoints.ts
  holding(input: Inputs["holding"]): Promise<Held> {
    return checkpoints.holding(this.svc, input);
  }

  recordCheckpoint(input: Inputs["checkpoint"]): Promise<CheckpointResult> {
    return checkpoints.recordCheckpoint(this.svc, input);
  }

  checkCommits(input: Inputs["checkCommits"]): Promise<CommitVerdict[]> {
    return checkpoints.checkCommits(this.svc, input);
  }

  // webhooks.ts
  webhookAdd(input: Inputs["webhookAdd"]): Promise<PublicWebhook & { secret: string }> {
    return webhooks.webhookAdd(this.svc, input);
  }

  webhookList(input: Inputs["webhookList"]): Promise<PublicWebhook[]> {
    return webhooks.webhookList(this.svc, input);
  }

  webhookPause(input: Inputs["webhook"]): Promise<PublicWebhook> {
    return webhooks.webhookPause(this.svc, input);
  }

  webhookResume(input: Inputs["webhook"]): Promise<PublicWebhook> {
    return webhooks.webhookResume(this.svc, input);
  }

  webhookTest(input: Inputs["webhook"]): Promise<PublicWebhook> {
    return webhooks.webhookTest(this.svc, input);
  }

  webhookDelete(input: Inputs["webhook"]): Promise<{ id: string; deleted: true }> {
    return webhooks.webhookDelete(this.svc, input);
  }

  webhooksToDeliver(owner: string, leaseMs: number): Promise<Webhook[]> {
    return webhooks.webhooksToDeliver(this.svc, owner, leaseMs);
  }

  webhookProgress(id: string, owner: string, leaseMs: number, change: (w: Webhook, now: string) => Webhook, take = false): Promise<Webhook | null> {
    return webhooks.webhookProgress(this.svc, id, owner, leaseMs, change, take);
  }

  webhookEvents(w: Webhook, limit: number): Promise<LedgerEvent[]> {
    return webhooks.webhookEvents(this.svc, w, limit);
  }

  webhooksRelease(owner: string): Promise<void> {
    return webhooks.webhooksRelease(this.svc, owner);
  }

  // verifications.ts
  verifyCommand(input: Inputs["verifyCommand"]): Promise<VerifyCommand> {
    return verifications.verifyCommand(this.svc, input);
  }

  recordVerification(input: Inputs["verification"]): Promise<VerificationResult> {
    return verifications.recordVerification(this.svc, input);
  }

  // spending.ts
  spend(input: Inputs["spend"]): Promise<SpendResult> {
    return spending.spend(this.svc, input);
  }

  attempts(input: Inputs["attempts"]): Promise<AttemptView[]> {
    return spending.attempts(this.svc, input);
  }

  report(input: Inputs["report"]): Promise<Report> {
    return spending.report(this.svc, input);
  }

  // insights.ts
  attention(input: Inputs["attention"]): Promise<Attention> {
    return insights.attention(this.svc, input);
  }

  agents(input: Inputs["agents"]): Promise<Roster> {
    return insights.agents(this.svc, input);
  }

  flow(input: Inputs["flow"]): Promise<Flow> {
    return insights.flow(this.svc, input);
  }

  // handoff.ts
  contextPut(input: Inputs["contextPut"]): Promise<ContextEntry> {
    return handoff.contextPut(this.svc, input);
  }

  contextPull(input: Inputs["contextPull"]): Promise<ContextPull> {
    return handoff.contextPull(this.svc, input);
  }

  contextHistory(input: Inputs["contextPull"]): Promise<ContextPull> {
    return handoff.contextHistory(this.svc, input);
  }
}
