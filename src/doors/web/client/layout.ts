/** The dependency graph's layout, without the DOM (tested in node). */
import type { WorkOrder } from "../../../core/types.js";

/** Depth of each WO: 0 without dependencies among `ids`, else one more than its deepest dependency (cycles cannot exist). */
export function depths(wos: ReadonlyMap<number, Pick<WorkOrder, "depends_on">>): Map<number, number> {
  const depth = new Map<number, number>();
  const of = (id: number, seen: Set<number>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle the ledger refuses; never loop on bad data
    seen.add(id);
    const deps = (wos.get(id)?.depends_on ?? []).filter((d) => wos.has(d));
    const d = deps.length ? 1 + Math.max(...deps.map((x) => of(x, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  for (const id of wos.keys()) of(id, new Set());
  return depth;
}

/** One bar of the lease timeline: an attempt, clipped to the window, on its agent's lane. */
export interface Bar {
  wo: number;
  agent: string;
  lane: number;
  /** Fractions of the window (0 = its start, 1 = now). */
  from: number;
  to: number;
  outcome: string;
}

/** A WO passing from one agent to the next: from the end of one bar to the start of the next. */
export interface Handoff {
  wo: number;
  from: Bar;
  to: Bar;
}

/**
 * Lanes (one per agent, alphabetical), bars clipped to [since, now] (a
 * running attempt reaches now), and hand-offs between consecutive attempts of
 * one WO by different agents.
 */
export function timeline(
  attempts: readonly { wo: number; token: number; agent: string; started_at: string; ended_at: string | null; outcome: string | null }[],
  since: number,
  now: number,
): { lanes: string[]; bars: Bar[]; handoffs: Handoff[] } {
  const span = Math.max(1, now - since);
  const lanes = [...new Set(attempts.map((a) => a.agent))].sort();
  const at = (t: number) => Math.min(1, Math.max(0, (t - since) / span));
  const bars = attempts.map((a) => ({
    wo: a.wo,
    agent: a.agent,
    lane: lanes.indexOf(a.agent),
    from: at(Date.parse(a.started_at)),
    to: at(a.ended_at === null ? now : Date.parse(a.ended_at)),
    outcome: a.outcome ?? "running",
    token: a.token,
  }));
  const byWo = new Map<number, (Bar & { token: number })[]>();
  for (const b of bars) byWo.set(b.wo, [...(byWo.get(b.wo) ?? []), b]);
  const handoffs = [...byWo.values()].flatMap((list) =>
    list
      .sort((x, y) => x.token - y.token)
      .flatMap((b, i) => {
        const next = list[i + 1];
        return next && next.agent !== b.agent ? [{ wo: b.wo, from: b, to: next }] : [];
      }),
  );
  return { lanes, bars, handoffs };
}

/** The flow chart in a `w`×`h` box: per interval a created and a done bar, a mark where leases expired, and the queue as a line. */
export interface FlowShapes {
  /** Per interval its counts, its slot (x, width) and its bars' heights. */
  bars: { at: string; created: number; done: number; expired: number; x: number; width: number; heights: { created: number; done: number } }[];
  /** SVG polyline points of the queue's depth at the start and at each interval's end. */
  queue: string;
  /** The count at the box's top. */
  max: number;
}

export function flowShapes(
  flow: { queue_at_start: number; points: readonly { at: string; created: number; done: number; expired: number; queue: number }[] },
  w: number,
  h: number,
): FlowShapes {
  const points = flow.points;
  const max = Math.max(1, flow.queue_at_start, ...points.flatMap((p) => [p.created, p.done, p.queue]));
  const slot = w / Math.max(1, points.length);
  const y = (n: number) => h - (n / max) * h;
  const bars = points.map((p, i) => ({
    at: p.at,
    created: p.created,
    done: p.done,
    expired: p.expired,
    x: i * slot,
    width: slot,
    heights: { created: h - y(p.created), done: h - y(p.done) },
  }));
  const queue = [`0,${y(flow.queue_at_start).toFixed(1)}`, ...points.map((p, i) => `${(i * slot + slot).toFixed(1)},${y(p.queue).toFixed(1)}`)].join(" ");
  return { bars, queue, max };
}

/** What each attempt left behind: its agent's notes made while it ran, and the checkpoints made under its lease. */
export function leftBehind<N extends { agent: string; created_at: string }, K extends { token: number }>(
  attempts: readonly { token: number; agent: string; started_at: string; ended_at: string | null }[],
  notes: readonly N[],
  checkpoints: readonly K[],
): Map<number, { notes: N[]; checkpoints: K[] }> {
  return new Map(
    attempts.map((a) => [
      a.token,
      {
        notes: notes.filter((n) => n.agent === a.agent && n.created_at >= a.started_at && (a.ended_at === null || n.created_at <= a.ended_at)),
        checkpoints: checkpoints.filter((k) => k.token === a.token),
      },
    ]),
  );
}
