/**
 * Flow over time (issue 28): per interval of a window, how many work orders
 * were created, claimed, done and expired, how many waited in the queue (open
 * and unclaimed) at its end, and how long done work took from creation.
 * Replayed from status changes the store reads compactly (Tx.statusChanges):
 * each WO's status at the window's start, then every change in it.
 */
import { toMicros, toUsd } from "./pricing.js";
import type { SpendRecord, Status } from "./types.js";

/** The events that change a WO's status: created and claimed (open, claimed), and those whose data names the new one (`status`, or `to`). */
export const STATUS_EVENTS = ["created", "claimed", "released", "expired", "status_changed"] as const;

/**
 * A status-changing event, as little as the flow needs: when it took effect
 * (an expiry's at its lease's end, not when it was recorded), the status it
 * left the WO in, and for one that left it done, when the WO was created.
 */
export interface StatusChange {
  wo: number;
  at: string;
  type: (typeof STATUS_EVENTS)[number];
  to: Status;
  created_at: string | null;
}

export interface FlowPoint {
  /** The interval's start. */
  at: string;
  created: number;
  claimed: number;
  done: number;
  expired: number;
  /** Open and unclaimed at the interval's end. */
  queue: number;
}

export interface FlowSpend {
  agent: string;
  phase: string;
  usd: number;
  tokens: number;
}

export interface Flow {
  project: string;
  since: string;
  until: string;
  interval_ms: number;
  /** Open and unclaimed when the window began. */
  queue_at_start: number;
  points: FlowPoint[];
  /** Work done in the window: how many, and the median and 90th percentile time from creation to done. */
  done: { count: number; median_ms: number | null; p90_ms: number | null };
  /** Spend recorded in the window by agent and phase, most first. */
  spend: FlowSpend[];
  /** More changes than one answer reads: the counts cover the window's start up to `until`. */
  truncated: boolean;
}

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

/**
 * `before`: each WO's last change recorded before `since` (its status then);
 * `changes`: every change recorded from `since` in the order recorded (at most
 * `limit`); an expiry recorded late may have taken effect before `since`.
 */
export function buildFlow(
  project: string,
  window: { since: string; until: string; buckets: number },
  before: readonly StatusChange[],
  changes: readonly StatusChange[],
  spent: readonly SpendRecord[],
  limit: number,
): Flow {
  const start = Date.parse(window.since);
  const truncated = changes.length >= limit;
  const end = truncated ? Date.parse(changes.at(-1)!.at) : Date.parse(window.until);
  const interval = Math.max(1, Math.ceil((Date.parse(window.until) - start) / window.buckets));
  const status = new Map(before.map((c) => [c.wo, c.to]));
  // In the order they took effect (stable: the order recorded within one instant).
  const sorted = [...changes].sort((a, b) => a.at.localeCompare(b.at));
  let i = 0;
  for (; i < sorted.length && Date.parse(sorted[i]!.at) < start; i++) status.set(sorted[i]!.wo, sorted[i]!.to);
  let queue = [...status.values()].filter((s) => s === "open").length;
  const queue_at_start = queue;
  const points: FlowPoint[] = [];
  const leadTimes: number[] = [];
  for (let b = 0; b < window.buckets && start + b * interval <= end; b++) {
    const p: FlowPoint = { at: new Date(start + b * interval).toISOString(), created: 0, claimed: 0, done: 0, expired: 0, queue: 0 };
    const bucketEnd = start + (b + 1) * interval;
    for (; i < sorted.length && Date.parse(sorted[i]!.at) < bucketEnd; i++) {
      const c = sorted[i]!;
      const was = status.get(c.wo);
      status.set(c.wo, c.to);
      queue += (c.to === "open" ? 1 : 0) - (was === "open" ? 1 : 0);
      if (c.type === "created") p.created++;
      else if (c.type === "claimed") p.claimed++;
      else if (c.type === "expired") p.expired++;
      if (c.to === "done" && was !== "done") {
        p.done++;
        leadTimes.push(Date.parse(c.at) - Date.parse(c.created_at ?? c.at));
      }
    }
    p.queue = queue;
    points.push(p);
  }
  leadTimes.sort((a, b) => a - b);
  return {
    project,
    since: window.since,
    until: new Date(end).toISOString(),
    interval_ms: interval,
    queue_at_start,
    points,
    done: { count: leadTimes.length, median_ms: quantile(leadTimes, 0.5), p90_ms: quantile(leadTimes, 0.9) },
    spend: spendByAgentAndPhase(spent),
    truncated,
  };
}

function spendByAgentAndPhase(spent: readonly SpendRecord[]): FlowSpend[] {
  // Money summed in micro-dollars, as on the WO (budget.ts addSpend).
  const by = new Map<string, Omit<FlowSpend, "usd"> & { micros: number }>();
  for (const s of spent) {
    const key = `${s.agent}\u0000${s.phase}`;
    const row = by.get(key) ?? { agent: s.agent, phase: s.phase, micros: 0, tokens: 0 };
    row.micros += toMicros(s.cost_usd ?? 0);
    row.tokens += s.tokens_in + s.tokens_out;
    by.set(key, row);
  }
  return [...by.values()].map(({ micros, ...r }) => ({ ...r, usd: toUsd(micros) })).sort((a, b) => b.usd - a.usd || b.tokens - a.tokens || a.agent.localeCompare(b.agent));
}
