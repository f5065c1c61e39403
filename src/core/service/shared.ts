/** The service context every operation gets, and the steps several share. */
import * as rules from "../rules.js";
import type { Store, Tx } from "../port.js";
import { getOrNotFound, loadForWrite } from "../steps.js";
import type { Checkpoint, LedgerEvent, ProjectPolicy, Role, Status, StoredWorkOrder } from "../types.js";
import { DEFAULT_POLICY } from "../verification.js";
import type { Finished, LedgerOptions } from "./results.js";

/** A project's policy, or the default one for a project that does not exist (yet). */
export async function policyOf(tx: Tx, project: string): Promise<ProjectPolicy> {
  return (await tx.getProject(project))?.policy ?? DEFAULT_POLICY;
}

/**
 * Loads a WO for a write by `agent` (lazy expiry recorded first), with the
 * agent's newest attempt on it read from the store when it is not the live
 * holder: whether a lapsed holder is fenced is judged from every attempt
 * ever stored, not from a bounded list (rules.withAttempt).
 */
export async function loadAs(tx: Tx, project: string, id: number, agent: string): Promise<StoredWorkOrder> {
  return asCaller(tx, await loadForWrite(tx, project, id), agent);
}

/** The same in a read: the effective view, with the caller's attempt judged against the stored lease (which still says when a lapsed one expired). */
export async function readAs(tx: Tx, project: string, id: number, agent: string): Promise<StoredWorkOrder> {
  return rules.effective(await asCaller(tx, await getOrNotFound(tx, project, id), agent), tx.now());
}

export async function asCaller(tx: Tx, wo: StoredWorkOrder, agent: string): Promise<StoredWorkOrder> {
  if (rules.isLive(wo.lease, tx.now()) && wo.lease.agent === agent) return wo;
  if (wo.fence === 0) return wo;
  const [last] = await tx.listAttempts({ project: wo.project, wo: wo.id, agent, limit: 1 });
  return rules.withAttempt(wo, agent, last, tx.now());
}

/** What a follower reads after `after` (events, SSE, webhooks): the store's follow order where it has one, else seq order. */
export const followed = (tx: Tx, project: string | null, after: number, limit: number): Promise<LedgerEvent[]> =>
  tx.followEvents ? tx.followEvents(project, after, limit) : tx.listEvents(project, null, after, limit);

/** The newest checkpoints made on a WO (a WO's page shows them; the next holder's worktree starts from the last). */
const CHECKPOINTS_SHOWN = 100;

export async function checkpointsOf(tx: Tx, project: string, id: number): Promise<Checkpoint[]> {
  return (await tx.eventsOfType(project, id, "checkpoint", CHECKPOINTS_SHOWN)).map((e) => ({
    commit: String(e.data.commit),
    agent: e.agent,
    token: Number(e.data.token),
    at: e.at,
    message: String(e.data.message),
  }));
}

export const finished = (change: rules.Change): Finished => ({ ...rules.toPublic(change.next), ...(change.warnings ? { warnings: change.warnings } : {}) });

export const ACTIVE: readonly Status[] = ["open", "claimed", "blocked"];

export const DEFAULT_LIST_LIMIT = 100;

export const DEFAULT_FIND_LIMIT = 20;

/** At most this many attempts or spend records are read for one answer (a report over a busy year would not fit in memory). */
export const MAX_ROWS = 100_000;

/** What every operation runs with: the store, the ledger's options, its write transaction and its expiry sweep (ledger.ts). */
export interface Service {
  readonly store: Store;
  readonly opts: LedgerOptions;
  /** A write transaction whose events reach onEvents once committed; an admin's are marked as such. */
  write<T>(fn: (tx: Tx) => Promise<T>, role?: Role): Promise<T>;
  /** Records the expiry of lapsed leases before a read. */
  sweep(project: string | null): Promise<void>;
}
