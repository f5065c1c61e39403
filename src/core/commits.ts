/**
 * Fencing to the merge (issue 26): whether a commit that names a lease in its
 * trailers (core/trailers.ts) was made while that lease was live. The
 * commit-msg hook asks at the moment of the commit; check-commits asks later
 * with the commit's committer date (which whoever made the commit chose, so a
 * server-side hook, which judges at push time, is the stronger check). Git
 * keeps whole seconds: a commit dated 12:00:05 was made in [05, 06), so it is
 * judged before a lease only when that whole second is.
 */
import type { Attempt, Lease, Status, StoredWorkOrder, WorkOrder } from "./types.js";
import { isLive, label } from "./rules.js";

export type CommitProblem = "unknown_work_order" | "never_issued" | "before_lease" | "after_lease" | "not_the_holder";

export interface CommitVerdict {
  /** null: a commit being made. */
  commit: string | null;
  project: string;
  id: number;
  token: number;
  /** When it was made (the commit's date, or the ledger's now for a commit being made). */
  at: string;
  ok: boolean;
  problem?: CommitProblem;
  /** Why, in words: the WO, the attempt, when it ended and who holds the WO now. */
  message: string;
  attempt: Attempt | null;
  status: Status | null;
  holder: Pick<Lease, "agent" | "token" | "expires_at"> | null;
}

/** Judges one commit: `wo` is the WO as stored (null: none), `attempt` its attempt under the commit's token (if ever issued). */
export function judgeCommit(
  c: { commit: string | null; project: string; id: number; token: number; at: string },
  wo: StoredWorkOrder | null,
  attempt: Attempt | undefined,
  now: string,
): CommitVerdict {
  const live = wo !== null && isLive(wo.lease, now) ? wo.lease : null;
  const holder = live && { agent: live.agent, token: live.token, expires_at: live.expires_at };
  const base = { ...c, attempt: attempt ?? null, status: wo?.status ?? null, holder };
  const now_ = holder ? `; ${holder.agent} holds it now (lease ${holder.token})` : wo ? `; nobody holds it now (${wo.status})` : "";
  const refuse = (problem: CommitProblem, why: string): CommitVerdict => ({ ...base, ok: false, problem, message: `${why}${now_}` });
  if (wo === null) return refuse("unknown_work_order", `${label(c.id)} does not exist in project ${c.project}`);
  if (attempt === undefined) return refuse("never_issued", `lease token ${c.token} was never issued on ${label(c.id)} (its leases so far: ${wo.fence})`);
  // An attempt still open in the store whose lease is no longer live lapsed at its expiry (not recorded yet).
  const ended = attempt.ended_at ?? (live?.token === attempt.token ? null : (wo.lease?.expires_at ?? now));
  const lease = `${attempt.agent}'s lease ${attempt.token} on ${label(c.id)}`;
  if (Date.parse(c.at) + 1000 <= Date.parse(attempt.started_at)) return refuse("before_lease", `made at ${c.at}, before ${lease} began (${attempt.started_at})`);
  if (ended !== null && c.at > ended) return refuse("after_lease", `made at ${c.at}, after ${lease} ended (${ended}, ${attempt.outcome ?? "expired"})`);
  return { ...base, ok: true, message: `made under ${lease}${ended === null ? " (live)" : ` (ended ${ended})`}` };
}

/** A commit being made by `agent` under a live lease: only that lease's holder commits under it (ninth trials: a non-holder committed in the holder's worktree). */
export function byItsHolder(v: CommitVerdict, agent: string | undefined): CommitVerdict {
  if (!v.ok || agent === undefined || v.holder === null || v.holder.agent === agent) return v;
  return { ...v, ok: false, problem: "not_the_holder", message: `${label(v.id)} is ${v.holder.agent}'s under lease ${v.holder.token}: ${agent} may not commit under it` };
}

/** A commit being made whose Work-Order / Lease-Token trailers (`lines`) cannot be read: refused, naming them. */
export function unreadable(lines: readonly string[], at: string): CommitVerdict {
  const message = `the commit's Work-Order / Lease-Token trailers cannot be read: ${lines.join("; ")}`;
  return { commit: null, project: "", id: 0, token: 0, at, ok: false, message, attempt: null, status: null, holder: null };
}

/** What a ref update does to a WO's branch. */
export type BranchMove = "create" | "move" | "delete";

/**
 * Whether a ref update to `wo`'s branch may go through (the
 * reference-transaction hook asks; eighteenth-round probe: a non-holder moved
 * a held WO's branch with `merge --ff-only`, `reset` and `update-ref`, which
 * run no commit hook). Its live holder and an admin may do anything; anyone
 * may create the branch at the default branch's tip while nobody holds the WO
 * (`workledger branch` does; eighteenth trials: a lapsed holder created it at
 * a commit of its own) or delete it once the WO is cancelled, or done with its
 * work on the default branch. `atBase`: a creation puts the branch where the
 * default branch is, a deletion removes one the default branch contains. null: allowed; else why not.
 */
export function judgeBranchMove(
  wo: WorkOrder,
  move: BranchMove,
  caller: { agent: string | undefined; admin: boolean },
  now: string,
  atBase = false,
  checkpointed = false,
): string | null {
  const live = isLive(wo.lease, now) ? wo.lease : null;
  if (caller.admin) return null;
  if (live !== null && caller.agent !== undefined && live.agent === caller.agent) {
    // Its holder too keeps recorded work on it (twenty-second trials: renamed away, the WO was done, and the branch made
    // again at the default branch's tip held none of its work): the next holder and the dependents start from it.
    if (move === "delete" && checkpointed && !atBase)
      return `${wo.branch} is ${label(wo.id)}'s branch and holds its checkpointed work, which the default branch does not have: it stays while the work order is open (merge it first, or a person deletes it as an admin)`;
    return null;
  }
  if (move === "create" && live === null && atBase) return null;
  // A done WO's branch goes once the default branch has its work (twentieth trials: deleted, then made again at main, the done
  // work was gone from the branch its dependents merge); a cancelled one's work is not wanted.
  if (move === "delete" && (wo.status === "cancelled" || (wo.status === "done" && atBase))) return null;
  const who = caller.agent ?? "an agent with no name (WORKLEDGER_AGENT is not set)";
  if (move === "delete" && wo.status === "done")
    return `${wo.branch} is ${label(wo.id)}'s branch and holds done work the default branch does not have: merge it before deleting it (or a person deletes it as an admin), not ${who}`;
  const held = live !== null ? `${live.agent} holds it (lease ${live.token})` : `nobody holds it (${wo.status})`;
  const what =
    move === "delete" ? "deletes it" : move === "create" && live === null ? "makes it anywhere but at the default branch's tip (where workledger branch makes it)" : "moves it";
  return `${wo.branch} is ${label(wo.id)}'s branch and ${held}: only its holder ${what}, not ${who}`;
}
