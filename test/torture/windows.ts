/**
 * What a failover cost the agents: how long no operation succeeded around
 * each primary kill, and the latency of everything outside those windows.
 */
import type { Op } from "./check.ts";

export interface FailoverRecord {
  /** When the primary was SIGKILLed (ms since epoch). */
  at: number;
  killed: string;
  /** Until the other node took writes. */
  promotedAfterMs: number;
  /** From the last operation that succeeded before the kill to the first one started after it that succeeded. */
  unavailableMs?: number;
  window?: [number, number];
}

export function failoverWindows(ops: Op[], kills: FailoverRecord[]): FailoverRecord[] {
  const ok = ops.filter((o) => o.ok && o.w !== "drain");
  return kills.map((k) => {
    const before = Math.max(...ok.filter((o) => o.end <= k.at).map((o) => o.end));
    const after = Math.min(...ok.filter((o) => o.start >= k.at).map((o) => o.end));
    if (!Number.isFinite(before) || !Number.isFinite(after)) return k;
    return { ...k, unavailableMs: after - before, window: [before, after] };
  });
}

/** Percentiles of successful operations that were not in flight during a window. */
export function latency(ops: Op[], windows: FailoverRecord[]): { p50: number; p99: number; count: number } {
  const during = (o: Op) => windows.some((w) => w.window !== undefined && o.start <= w.window[1] && o.end >= w.window[0]);
  const ms = ops
    .filter((o) => o.ok && o.w !== "drain" && !during(o))
    .map((o) => o.end - o.start)
    .sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), count: ms.length };
}
