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
  if (entry.git && current && current.head !== entry.git.head) {
    stale_reasons.push(`repository moved since: HEAD was ${entry.git.head.slice(0, 12)}, now ${current.head.slice(0, 12)}`);
  }
  return { ...entry, age_ms, verdict: stale_reasons.length ? "stale" : "fresh", stale_reasons };
}
