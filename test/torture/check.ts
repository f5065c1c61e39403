/**
 * The history checker: given every operation the agents saw (with outcome and
 * fencing token) and the ledger's own event log and final state, list every
 * violation of the two promises: no duplicate work, no zombie tasks, nothing
 * acknowledged lost.
 */
import type { LedgerEvent, WorkOrder } from "../../src/core/types.ts";

export interface Op {
  w: string;
  op: "claim" | "renew" | "done" | "release" | "note" | "create" | "context_put";
  ok: boolean;
  code?: string;
  start: number;
  end: number;
  wo?: number;
  token?: number;
  id?: number;
  ids?: number[];
  key?: string;
  count?: number;
}

export interface Final {
  events: LedgerEvent[];
  wos: WorkOrder[];
  notes: { id: number; body: string }[];
  contexts: { id: number; body: string }[];
  integrity: string[];
}

/** Outcomes an agent may see without anything being wrong. */
const EXPECTED = new Set(["LEASE_HELD", "LEASE_LOST", "NOTHING_TO_CLAIM", "UNAVAILABLE", "RATE_LIMITED"]);

export function check(ops: Op[], f: Final, opts: { allDone: boolean }): string[] {
  const v: string[] = [];
  const say = (m: string) => v.length < 200 && v.push(m);

  for (const o of ops) if (!o.ok && !EXPECTED.has(o.code ?? "")) say(`${o.w} ${o.op}${o.wo ? ` WO-${o.wo}` : ""} failed with ${o.code}, not a clean rejection`);
  for (const p of f.integrity) say(`integrity: ${p}`);

  // Lease intervals from the log: claims and ends alternate, a claim after an
  // expiry comes after the lapsed lease's expiry, tokens grow, and every holder
  // write carries the token of the lease live at that point in the log.
  const live = new Map<number, { token: number; expires_at: string } | null>();
  const lastToken = new Map<number, number>();
  const claimed = new Map<string, number>();
  const doneBy = new Map<number, number>();
  for (const e of f.events) {
    if (e.wo === null) continue;
    const d = e.data as Record<string, unknown>;
    const cur = live.get(e.wo) ?? null;
    if (e.type === "claimed") {
      const token = Number(d.token);
      if (cur) say(`WO-${e.wo}: claimed (token ${token}) at ${e.at} while token ${cur.token} was held`);
      if (token <= (lastToken.get(e.wo) ?? 0)) say(`WO-${e.wo}: token ${token} does not grow past ${lastToken.get(e.wo)}`);
      lastToken.set(e.wo, token);
      live.set(e.wo, { token, expires_at: String(d.expires_at) });
      claimed.set(`${e.wo}:${token}`, (claimed.get(`${e.wo}:${token}`) ?? 0) + 1);
    } else if (e.type === "renewed") {
      if (!cur || cur.token !== Number(d.token)) say(`WO-${e.wo}: renewed with token ${String(d.token)} but the live lease is ${cur?.token ?? "none"}`);
      else cur.expires_at = String(d.expires_at);
    } else if (e.type === "expired") {
      if (!cur || cur.token !== Number(d.token)) say(`WO-${e.wo}: expired token ${String(d.token)} but the live lease is ${cur?.token ?? "none"}`);
      else if (e.at < cur.expires_at) say(`WO-${e.wo}: lease ${cur.token} recorded expired at ${e.at}, before its expiry ${cur.expires_at}`);
      live.set(e.wo, null);
    } else if (e.type === "released" || (e.type === "status_changed" && d.lease_ended === true)) {
      if (!cur || cur.token !== Number(d.token)) say(`WO-${e.wo}: ${e.type} with token ${String(d.token)} but the live lease is ${cur?.token ?? "none"}`);
      else if (e.at >= cur.expires_at) say(`WO-${e.wo}: ${e.type} at ${e.at}, after lease ${cur.token} expired at ${cur.expires_at}`);
      live.set(e.wo, null);
    }
    if (e.type === "status_changed" && d.to === "done") {
      doneBy.set(e.wo, (doneBy.get(e.wo) ?? 0) + 1);
      if (d.lease_ended !== true) say(`WO-${e.wo}: marked done without a live lease`);
    }
  }
  for (const [wo, n] of doneBy) if (n > 1) say(`WO-${wo}: marked done ${n} times`);

  // Every acknowledged operation is in the ledger, and every write (each has its own body) at most once, however often the client resent it.
  const noteIds = new Set(f.notes.map((n) => n.id));
  const contextIds = new Set(f.contexts.map((c) => c.id));
  for (const [kind, list] of [
    ["note", f.notes],
    ["context", f.contexts],
  ] as const) {
    const seen = new Map<string, number>();
    for (const x of list) seen.set(x.body, (seen.get(x.body) ?? 0) + 1);
    for (const [body, n] of seen) if (n > 1) say(`${kind} "${body}" was written ${n} times`);
  }
  const status = new Map(f.wos.map((w) => [w.id, w]));
  for (const o of ops.filter((o) => o.ok)) {
    if (o.op === "claim" && claimed.get(`${o.wo}:${o.token}`) !== 1) say(`${o.w}'s acknowledged claim of WO-${o.wo} (token ${o.token}) is not in the log exactly once`);
    if (o.op === "done" && status.get(o.wo ?? 0)?.status !== "done") say(`${o.w}'s acknowledged done of WO-${o.wo} is lost (now ${status.get(o.wo ?? 0)?.status})`);
    if (o.op === "note" && !noteIds.has(o.id ?? -1)) say(`acknowledged note ${o.id} is lost`);
    if (o.op === "context_put" && !contextIds.has(o.id ?? -1)) say(`acknowledged context ${o.id} is lost`);
    if (o.op === "create") for (const id of o.ids ?? []) if (!status.has(id)) say(`acknowledged WO-${id} (key ${o.key}) is lost`);
  }
  // Retried creates with one idempotency key never duplicate.
  for (const key of new Set(ops.filter((o) => o.op === "create").map((o) => o.key))) {
    const made = f.wos.filter((w) => w.title.startsWith(`made by ${key} `)).length;
    const want = ops.find((o) => o.key === key)?.count ?? 0;
    if (made !== 0 && made !== want) say(`idempotency key ${key}: ${made} WOs for a request of ${want}`);
  }
  // No zombie tasks: once every lease has lapsed and the pool was drained, everything is done.
  if (opts.allDone) for (const w of f.wos) if (w.status !== "done") say(`WO-${w.id} is still ${w.status}${w.lease ? ` (held by ${w.lease.agent})` : ""} after the drain`);
  return v;
}
