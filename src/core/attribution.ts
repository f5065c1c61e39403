/**
 * Which attempt a piece of usage belongs to, by time (a transcript spans a
 * session in which an agent may work on several WOs). Usage during an
 * attempt is that attempt's; usage between two attempts is the earlier one's
 * (wrap-up: reporting, handover); usage before the first is the first one's
 * (reading the queue and the WO to claim it). The rule only ever looks back,
 * except before the first attempt, so a later attempt never takes usage
 * already reported against an earlier one, and re-reading a grown transcript
 * adds only its new part.
 */
import type { Attempt } from "./types.js";

export function attribute<T extends { at: string }>(usage: readonly T[], attempts: readonly Attempt[]): Map<Attempt, T[]> {
  const sorted = [...attempts].sort((a, b) => a.started_at.localeCompare(b.started_at) || a.wo - b.wo || a.token - b.token);
  const out = new Map<Attempt, T[]>();
  if (sorted.length === 0) return out;
  for (const u of usage) {
    // the last attempt started at or before it (a later start never covers earlier usage), else the first
    let owner = sorted[0]!;
    for (const a of sorted) if (a.started_at <= u.at) owner = a;
    if (!out.has(owner)) out.set(owner, []);
    out.get(owner)!.push(u);
  }
  return out;
}
