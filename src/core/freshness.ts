/** Freshness of handed-over context: may the next agent trust it as it is? */
import { formatDuration } from "./duration.js";
import type { ContextEntry, GitState } from "./types.js";

export interface PulledContext extends ContextEntry {
  age_ms: number;
  verdict: "fresh" | "stale";
  stale_reasons: string[];
}

/** The newest checkpoint recorded on a WO (what its branch was moved to under a lease). */
export interface LastCheckpoint {
  commit: string;
  at: string;
}

export function freshness(entry: ContextEntry, now: string, maxAgeMs: number, current: GitState | null | undefined, checkpoint?: LastCheckpoint | null): PulledContext {
  const age_ms = Math.max(0, Date.parse(now) - Date.parse(entry.created_at));
  const stale_reasons: string[] = [];
  if (age_ms > maxAgeMs) stale_reasons.push(`older than ${formatDuration(maxAgeMs)} (${formatDuration(age_ms)} old)`);
  if (entry.git && current && current.head !== entry.git.head && sameLine(entry.git, current)) {
    stale_reasons.push(`repository moved since: HEAD was ${entry.git.head.slice(0, 12)}, now ${current.head.slice(0, 12)}`);
  }
  // Linked to a WO whose work was checkpointed after it was written: from wherever it is read, the work moved on
  // (issue 23, eleventh trials: read from the main checkout, a handover older than two checkpoints was "fresh").
  if (checkpoint && checkpoint.at > entry.created_at && checkpoint.commit !== entry.git?.head) {
    stale_reasons.push(`its work order was checkpointed since it was written (${checkpoint.commit.slice(0, 12)} at ${checkpoint.at})`);
  }
  return { ...entry, age_ms, verdict: stale_reasons.length ? "stale" : "fresh", stale_reasons };
}

/**
 * Whether the caller's HEAD continues the line of history the entry was saved
 * on: the same branch (or either detached). An entry saved in a WO's worktree
 * (its branch) and read from the main checkout is not "moved" because main's
 * HEAD differs (issue 23, tenth trials: every handover made in a worktree read
 * as stale to the next holder's claim); in the worktree it is judged again.
 */
const sameLine = (saved: GitState, current: GitState) => saved.branch === null || current.branch === null || saved.branch === current.branch;
