/** Freshness of handed-over context: may the next agent trust it as it is? */
import { formatDuration } from "./duration.js";
import type { ContextPull } from "./service/results.js";
import type { ContextEntry, GitState } from "./types.js";

export interface PulledContext extends ContextEntry {
  age_ms: number;
  verdict: "fresh" | "stale";
  stale_reasons: string[];
  /** Its WO's branch, when it was saved on another one (the main checkout): the caller's repository judges that branch too (onItsWorkOrdersBranch). */
  wo_branch?: string;
}

/** The newest checkpoint recorded on a WO (what its branch was moved to under a lease). */
export interface LastCheckpoint {
  commit: string;
  at: string;
}

/** Said of context saved in a git work tree and read by a caller that stands in none (null: it said so; undefined: not said, as over HTTP). */
export const UNJUDGED = "saved in a git work tree and read outside one: whether its branch moved since cannot be judged here (pull it in the repository)";

const MOVED = "repository moved since";

/** Said of context saved in a work tree with uncommitted changes. */
export const DIRTY = "saved with uncommitted changes: what it describes is not on its branch (commit or checkpoint, then save it again)";

/** How the WO an entry is linked to was finished: its status, when, and by whom when its last holder finished it. */
export interface Finished {
  status: "done" | "cancelled";
  at: string;
  agent: string | null;
}

/** What happened to the WO an entry is linked to that the entry may not know. */
export interface WorkSince {
  checkpoint?: LastCheckpoint | null;
  finished?: Finished | null;
  /** The WO's branch. */
  branch?: string;
}

export function freshness(entry: ContextEntry, now: string, maxAgeMs: number, current: GitState | null | undefined, since: WorkSince = {}): PulledContext {
  const { checkpoint, finished } = since;
  const age_ms = Math.max(0, Date.parse(now) - Date.parse(entry.created_at));
  const stale_reasons: string[] = [];
  if (age_ms > maxAgeMs) stale_reasons.push(`older than ${formatDuration(maxAgeMs)} (${formatDuration(age_ms)} old)`);
  // Outside any work tree, fresh would be a guess (seventeenth trials: a handover whose branch moved read fresh from /tmp).
  if (entry.git && current === null) stale_reasons.push(UNJUDGED);
  if (entry.git && current && current.head !== entry.git.head && sameLine(entry.git, current)) {
    stale_reasons.push(`${MOVED}: HEAD was ${entry.git.head.slice(0, 12)}, now ${current.head.slice(0, 12)}`);
  }
  // Saved with uncommitted changes: what it describes is not on its branch (fourteenth trials: the next holder's worktree lacked it).
  if (entry.git?.dirty) stale_reasons.push(DIRTY);
  // Linked to a WO whose work was checkpointed after it was written: from wherever it is read, the work moved on
  // (issue 23, eleventh trials: read from the main checkout, a handover older than two checkpoints was "fresh").
  if (checkpoint && checkpoint.at > entry.created_at && checkpoint.commit !== entry.git?.head) {
    stale_reasons.push(`its work order was checkpointed since it was written (${checkpoint.commit.slice(0, 12)} at ${checkpoint.at})`);
  }
  // Saved off its WO's branch (the main checkout with no worktree, a detached HEAD) while that branch holds checkpointed
  // work its HEAD is not: it describes other code than the work's (twenty-second MCP trial: "z.txt is not there" read fresh).
  const off = entry.git && since.branch !== undefined && entry.git.branch !== since.branch;
  if (off && checkpoint && checkpoint.commit !== entry.git!.head && !stale_reasons.some((r) => r.includes(checkpoint.commit.slice(0, 12)))) {
    stale_reasons.push(
      `saved on ${entry.git!.branch ?? "a detached HEAD"}, not on its work order's branch ${since.branch}, which holds checkpointed work (${checkpoint.commit.slice(0, 12)})`,
    );
  }
  // Finished by someone else after it was written: its "next steps" were taken or dropped (eighteenth MCP trial: a handover
  // saying "X is not done" read fresh after the next holder did X and finished). Its own author's finish keeps it current.
  if (finished && finished.at > entry.created_at && finished.agent !== entry.agent) {
    stale_reasons.push(`its work order was ${finished.status}${finished.agent ? ` by ${finished.agent}` : ""} at ${finished.at}, after it was written`);
  }
  // Saved off its WO's branch, it names that branch: the caller's door judges it there too (onItsWorkOrdersBranch).
  return { ...entry, age_ms, verdict: stale_reasons.length ? "stale" : "fresh", stale_reasons, ...(off ? { wo_branch: since.branch! } : {}) };
}

/**
 * Whether the caller's HEAD continues the line of history the entry was saved
 * on: the same branch (or either detached). An entry saved in a WO's worktree
 * (its branch) and read from the main checkout is not "moved" because main's
 * HEAD differs (issue 23, tenth trials: every handover made in a worktree read
 * as stale to the next holder's claim); in the worktree it is judged again.
 */
const sameLine = (saved: GitState, current: GitState) => saved.branch === null || current.branch === null || saved.branch === current.branch;

/** What the caller's own repository says of branches it does not stand on (read by the door, which has the files). */
export interface LocalRepository {
  /** Which repository this is: its main work tree (exec/git.ts repositoryOf), or undefined outside git. */
  root(): string | undefined;
  /** The commit a local branch points at, or undefined when there is no such branch here. */
  tip(branch: string): string | undefined;
  /** Whether `older` is an ancestor of `newer` in this repository (false when either is unknown here). */
  contains(older: string, newer: string): boolean;
  /** Whether this repository has the commit. */
  has(commit: string): boolean;
  /** Whether the local branch pointed at the commit at some time (its reflog). */
  wasAt(branch: string, commit: string): boolean;
  /** When the commit was made (its committer date, ISO), or undefined when this repository does not have it. */
  committedAt(commit: string): string | undefined;
}

/**
 * An entry whose HEAD this repository does not have was saved in another one
 * (or a clone that has not fetched it): "moved since" would be a guess made
 * by comparing two unrelated histories (seventeenth trials: context read in
 * an unrelated repository said its repository had moved). It stays stale,
 * saying why.
 */
function inAnotherRepository(entry: PulledContext, repo: LocalRepository): PulledContext {
  const saved = entry.git;
  if (!saved || repo.has(saved.head)) return entry;
  // On another branch than the caller's too (twenty-second trials: it read fresh, nothing here could judge it).
  const moved = entry.stale_reasons.findIndex((r) => r.startsWith(MOVED));
  const stale_reasons = [...entry.stale_reasons];
  stale_reasons.splice(
    moved < 0 ? stale_reasons.length : moved,
    moved < 0 ? 0 : 1,
    `saved in another repository (its HEAD ${saved.head.slice(0, 12)} is not in this one): whether it moved cannot be judged here (pull it where it was saved, or fetch it first)`,
  );
  return { ...entry, verdict: "stale", stale_reasons };
}

/**
 * An entry saved on a branch the caller does not stand on is judged against
 * that branch's tip in the caller's repository: a plain commit on a WO's
 * branch after its handover (no checkpoint, so the ledger never heard of it)
 * makes the handover stale from the main checkout too (issue 23, twelfth
 * trials), and so does a reset of the branch. A clone whose branch is
 * behind (and never was at the entry's HEAD) has not seen the work move.
 */
export function onItsBranch(entry: PulledContext, current: GitState | null | undefined, repo: LocalRepository): PulledContext {
  const saved = entry.git;
  if (!saved?.branch || !current || saved.branch === current.branch) return entry;
  const tip = repo.tip(saved.branch);
  if (tip === undefined || tip === saved.head || entry.stale_reasons.some((r) => r.includes(tip.slice(0, 12)))) return entry;
  // Ahead of the entry's HEAD: moved on. Not ahead, but the branch here was at that HEAD once (its reflog says): reset or
  // rewritten (eighteenth trials: a reset read fresh). Otherwise this is a clone whose branch never got there: nothing to say.
  const forward = repo.contains(saved.head, tip);
  if (!forward && !repo.wasAt(saved.branch, saved.head)) return entry;
  const reason = `its branch ${saved.branch} ${forward ? "moved" : "was reset or rewritten"} since: HEAD was ${saved.head.slice(0, 12)}, now ${tip.slice(0, 12)}`;
  return { ...entry, verdict: "stale", stale_reasons: [...entry.stale_reasons, reason] };
}

/**
 * An entry saved on another branch than its WO's (the main checkout, before
 * the WO's worktree was made) is judged against the WO's branch as well: a
 * commit made on it after the entry was written, with the hooks not
 * installed (so no checkpoint told the ledger), means the work moved on
 * (twentieth trials: such a handover read fresh). git dates commits in whole
 * seconds: one made in the entry's second counts as after it.
 */
export function onItsWorkOrdersBranch(entry: PulledContext, repo: LocalRepository): PulledContext {
  const saved = entry.git;
  if (!saved || entry.wo_branch === undefined) return entry;
  const tip = repo.tip(entry.wo_branch);
  if (tip === undefined || tip === saved.head || entry.stale_reasons.some((r) => r.includes(tip.slice(0, 12)))) return entry;
  const at = repo.committedAt(tip);
  if (at === undefined || Date.parse(at) < Math.floor(Date.parse(entry.created_at) / 1000) * 1000) return entry;
  const reason = `its work order's branch ${entry.wo_branch} has a commit made after it was written (${tip.slice(0, 12)} at ${at})`;
  return { ...entry, verdict: "stale", stale_reasons: [...entry.stale_reasons, reason] };
}

/** A context-pull's, claim's or get's answer with each entry judged in this repository, on its branch and on its WO's (onItsBranch, onItsWorkOrdersBranch); anything else as it is. */
export function judgedOnBranches<T>(result: T, current: GitState | null | undefined, repo: LocalRepository): T {
  if (!current || result === null || typeof result !== "object") return result;
  const judge = (e: PulledContext) => onItsWorkOrdersBranch(onItsBranch(inAnotherRepository(e, repo), current, repo), repo);
  if ("entries" in result && "verdict" in result) {
    const pull = result as unknown as ContextPull;
    const entries = pull.entries.map(judge);
    return { ...pull, entries, verdict: pull.verdict === "none" ? "none" : entries.some((e) => e.verdict === "stale") ? "stale" : "fresh" } as T;
  }
  const context = (result as { context?: { linked: PulledContext | null; also_linked?: PulledContext[]; dependencies: PulledContext[] } }).context;
  if (!context || !("linked" in context)) return result;
  const judged = { ...context, linked: context.linked && judge(context.linked), dependencies: context.dependencies.map(judge) };
  return { ...result, context: context.also_linked ? { ...judged, also_linked: context.also_linked.map(judge) } : judged };
}
