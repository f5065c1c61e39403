/** Freshness of handed-over context: may the next agent trust it as it is? */
import { formatDuration } from "./duration.js";
import type { ContextEntry, GitState } from "./types.js";

export interface PulledContext extends ContextEntry {
  age_ms: number;
  verdict: "fresh" | "stale";
  stale_reasons: string[];
}

export function freshness(entry: ContextEntry, now: string, maxAgeMs: number, current: GitState | null | undefined): PulledContext {
  const age_ms = Math.max(0, Date.parse(now) - Date.parse(entry.created_at));
  const stale_reasons: string[] = [];
  if (age_ms > maxAgeMs) stale_reasons.push(`older than ${formatDuration(maxAgeMs)} (${formatDuration(age_ms)} old)`);
  if (entry.git && current && current.head !== entry.git.head && sameLine(entry.git, current)) {
    stale_reasons.push(`repository moved since: HEAD was ${entry.git.head.slice(0, 12)}, now ${current.head.slice(0, 12)}`);
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
