/**
 * Context as the ledger answers with it: pulled with freshness verdicts, and
 * the context a work order's next agent needs (claim and get show it).
 */
import { freshness, type Finished, type LastCheckpoint, type WorkSince } from "./freshness.js";
import { isFinished } from "./rules.js";
import type { ContextPull } from "./ledger.js";
import type { PulledContext } from "./freshness.js";
import type { Tx } from "./port.js";
import { DEFAULT_MAX_AGE_MS } from "./schemas.js";
import type { ContextEntry, GitState, StoredWorkOrder } from "./types.js";

/**
 * The context linked to a WO (context-put with its id), the newest per key
 * linked to each WO it depends on (each names its `wo`), and whether the
 * project's handover is newer.
 */
export interface WoContext {
  /** The newest handover linked to it (else the newest entry of any key). */
  linked: PulledContext | null;
  /** The newest entry of each other key linked to it (a later "design" must not hide the handover: thirteenth MCP trial). */
  also_linked: PulledContext[];
  dependencies: PulledContext[];
  /**
   * The project's newest project-wide handover, when it is newer than anything linked to this WO (or nothing is):
   * judged like the others, so a stale one reads as such (twenty-third MCP trial: "newer" read as news).
   */
  newer_handover: { created_at: string; agent: string; wo: number | null; verdict: "fresh" | "stale"; stale_reasons: string[] } | null;
}

/** Said when there is no context: what to do instead of trusting it. */
const NOTHING_HANDED_OVER =
  "nothing was handed over yet (or nothing under this key or work order): start from the work orders themselves, and hand over what you learn when you stop";

/** What a claim in a project without any context shows. */
export const NO_CONTEXT: WoContext = { linked: null, also_linked: [], dependencies: [], newer_handover: null };

/**
 * Entries with their freshness. Those linked to a WO are judged against its
 * newest checkpoint too (read here, one per WO, together), so context-pull
 * and get agree (issue 23, twelfth trials).
 */
export async function pulled(
  tx: Tx,
  project: string,
  rows: readonly ContextEntry[],
  maxAge: number | undefined,
  git: GitState | null | undefined,
  wo?: number,
): Promise<ContextPull> {
  const wos = [...new Set(rows.flatMap((e) => (e.wo === null ? [] : [e.wo])))];
  const since = new Map(await Promise.all(wos.map(async (id) => [id, await workSince(tx, project, id)] as const)));
  const entries = rows.map((e) => {
    return freshness(e, tx.now(), maxAge ?? DEFAULT_MAX_AGE_MS, git, e.wo === null ? undefined : since.get(e.wo));
  });
  const verdict = entries.length === 0 ? "none" : entries.some((e) => e.verdict === "stale") ? "stale" : "fresh";
  if (verdict === "none")
    return {
      project,
      verdict,
      entries,
      // A result's hint is no error's: no door renders it, so it names no operation (seventeenth MCP trial: `{{op:get}}` shown as is).
      hint: wo === undefined ? NOTHING_HANDED_OVER : `${NOTHING_HANDED_OVER}; getting the work order also shows what the work orders it depends on handed over`,
    };
  return { project, verdict, entries };
}

/**
 * The context a WO's next agent needs (claim, get): the newest entry linked to
 * it, and the project's newest project-wide handover when that is newer (it
 * may say something the linked entry does not). Judged against the caller's work
 * tree (`git`) as context-pull judges it: from another HEAD is stale.
 */
export async function linkedContext(tx: Tx, project: string, id: number, git: GitState | null | undefined, finished: Finished | null = null, branch?: string): Promise<WoContext> {
  // All in one round trip on PostgreSQL (statements of one turn are sent together).
  const [perKey, handovers, checkpoint] = await Promise.all([tx.latestContext(project, null, id), tx.latestContext(project, "handover", null), lastCheckpoint(tx, project, id)]);
  // Only the project-wide one: another WO's handover is that WO's business (thirteenth trials: WO-17 pointed at WO-3's).
  const handover = handovers.find((e) => e.wo === null);
  const newest = perKey.reduce<ContextEntry | undefined>((a, e) => (a === undefined || e.id > a.id ? e : a), undefined);
  const linked = perKey.find((e) => e.key === "handover") ?? newest;
  const judge = (e: ContextEntry) => freshness(e, tx.now(), DEFAULT_MAX_AGE_MS, git, { checkpoint, finished, ...(branch !== undefined ? { branch } : {}) });
  const judged = handover && (!newest || handover.id > newest.id) ? freshness(handover, tx.now(), DEFAULT_MAX_AGE_MS, git) : null;
  const newer = judged && { created_at: judged.created_at, agent: judged.agent, wo: judged.wo, verdict: judged.verdict, stale_reasons: judged.stale_reasons };
  return {
    linked: linked ? judge(linked) : null,
    also_linked: perKey.filter((e) => e !== linked).map(judge),
    dependencies: [],
    newer_handover: newer,
  };
}

/**
 * Handoff follows dependencies: what was learned on the WOs this one depends
 * on (newest per key and WO) is part of its briefing. Sent together (one
 * round trip on PostgreSQL); a WO has at most 100 dependencies.
 */
export async function withDependencies(tx: Tx, project: string, context: WoContext, deps: readonly number[], git: GitState | null | undefined): Promise<WoContext> {
  if (deps.length === 0) return context;
  const [rows, works] = await Promise.all([
    Promise.all(deps.map((d) => tx.latestContext(project, null, d))).then((r) => r.flat()),
    Promise.all(deps.map((d) => workSince(tx, project, d))),
  ]);
  const workOf = new Map(deps.map((d, i) => [d, works[i]]));
  // The project's newest handover, when it is one of these, is shown here already (issue 23, tenth trials: it was named twice).
  const newer = context.newer_handover;
  const shown = newer !== null && rows.some((e) => e.key === "handover" && e.wo === newer.wo && e.created_at === newer.created_at && e.agent === newer.agent);
  return {
    ...context,
    dependencies: rows.map((e) => freshness(e, tx.now(), DEFAULT_MAX_AGE_MS, git, workOf.get(e.wo ?? -1))),
    ...(shown ? { newer_handover: null } : {}),
  };
}

/** How a WO was finished, for the context linked to it (null: it is not finished). */
type FinishState = Pick<StoredWorkOrder, "status" | "ended_leases" | "updated_at" | "branch">;
function finishedOf(wo: FinishState): Finished | null {
  if (!isFinished(wo.status)) return null;
  const last = wo.ended_leases[0];
  // Its last holder finished it (release, or the releaser's one follow-up); a creator's or an admin's finish names nobody.
  const agent = last !== undefined && (last.status === wo.status || last.followed_revision !== undefined) ? last.agent : null;
  return { status: wo.status as Finished["status"], at: last !== undefined && last.status === wo.status ? last.at : wo.updated_at, agent };
}

/** What happened to WO `id` that context linked to it may not know: its newest checkpoint, and how it was finished. */
async function workSince(tx: Tx, project: string, id: number): Promise<WorkSince> {
  const [checkpoint, wo] = await Promise.all([lastCheckpoint(tx, project, id), tx.getWorkOrder(project, id)]);
  return wo === null ? { checkpoint } : { checkpoint, finished: finishedOf(wo), branch: wo.branch };
}

/** The newest checkpoint recorded on WO `id`, or null. */
export async function lastCheckpoint(tx: Tx, project: string, id: number): Promise<LastCheckpoint | null> {
  const [e] = await tx.eventsOfType(project, id, "checkpoint", 1);
  return e ? { commit: String(e.data.commit), at: e.at } : null;
}

/** What the next agent of `wo` reads (claim, get): the context linked to it, and to the WOs it depends on. */
export async function briefing(tx: Tx, project: string, wo: Pick<StoredWorkOrder, "id" | "depends_on"> & FinishState, git: GitState | null | undefined): Promise<WoContext> {
  // The WO as the caller read it says how it was finished: no second read (a claimed one never is).
  return withDependencies(tx, project, await linkedContext(tx, project, wo.id, git, finishedOf(wo), wo.branch), wo.depends_on, git);
}
