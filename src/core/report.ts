/**
 * Spend and outcome reports (DESIGN.md §10): pure folds of a window's
 * attempts and spend records into rows by agent, phase, label, WO or model,
 * and the seed's question (is enrichment worth its spend?): WOs that had an
 * `enrich` phase against those that did not.
 */
import { toMicros, toUsd } from "./pricing.js";
import type { REPORT_BY } from "./schemas.js";
import { ATTEMPT_OUTCOMES, type Attempt, type AttemptOutcome, type SpendRecord } from "./types.js";

export type ReportBy = (typeof REPORT_BY)[number];

export interface ReportRow {
  key: string;
  attempts: number;
  /** Attempts by how they ended; `running` have not ended. */
  outcomes: Record<AttemptOutcome | "running", number>;
  /** Distinct WOs finished (an attempt ended done) in the window. */
  done_wos: number;
  usd: number;
  tokens_in: number;
  tokens_out: number;
  /** Spend records without a known cost. */
  unpriced: number;
  attempts_per_done_wo: number | null;
  cost_per_done_wo: number | null;
  /**
   * Of the WOs whose work was tried here (an attempt that did not just hand
   * the WO on to another stage, and has ended), the share whose first such
   * attempt finished it: null when none was.
   */
  first_attempt_done: number | null;
  /** Spend in the `execute` phase per done WO: what doing the work cost, enrichment and review aside. */
  execute_cost_per_done_wo: number | null;
}

export interface Report {
  project: string;
  since: string;
  until: string;
  by: ReportBy;
  rows: ReportRow[];
  totals: ReportRow;
  /** WOs with spend in an `enrich` phase in the window, against the others; and the same split per model of their execute spend. */
  enrichment: { with_enrich: ReportRow; without_enrich: ReportRow; by_model: ReportRow[] };
  /** Set when the window held more than the ledger reads for one report: the figures cover its newest part. */
  truncated?: true;
  /** Spend per UTC day and group (days with spend only, oldest first): the dashboard's chart. */
  days: { day: string; key: string; usd: number; tokens: number }[];
}

export const NO_GROUP = "(none)";

interface Window {
  attempts: readonly Attempt[];
  spend: readonly SpendRecord[];
  labels: ReadonlyMap<number, readonly string[]>;
}

/** One row over a set of attempts and spend records. */
function row(key: string, attempts: readonly Attempt[], spend: readonly SpendRecord[]): ReportRow {
  const outcomes = Object.fromEntries([...ATTEMPT_OUTCOMES, "running"].map((o) => [o, 0])) as ReportRow["outcomes"];
  for (const a of attempts) outcomes[a.outcome ?? "running"]++;
  const done = new Set(attempts.filter((a) => a.outcome === "done").map((a) => a.wo)).size;
  const micros = spend.reduce((n, s) => n + toMicros(s.cost_usd ?? 0), 0);
  const ratio = (n: number) => (done ? Math.round((n / done) * 1e6) / 1e6 : null);
  const execute = spend.filter((s) => s.phase === "execute").reduce((n, s) => n + toMicros(s.cost_usd ?? 0), 0);
  return {
    key,
    attempts: attempts.length,
    outcomes,
    done_wos: done,
    usd: toUsd(micros),
    tokens_in: spend.reduce((n, s) => n + s.tokens_in, 0),
    tokens_out: spend.reduce((n, s) => n + s.tokens_out, 0),
    unpriced: spend.filter((s) => s.cost_usd === null).length,
    attempts_per_done_wo: ratio(attempts.length),
    cost_per_done_wo: done ? toUsd(Math.round(micros / done)) : null,
    first_attempt_done: firstAttemptDone(attempts),
    execute_cost_per_done_wo: done ? toUsd(Math.round(execute / done)) : null,
  };
}

/** See ReportRow.first_attempt_done: each WO's first ended attempt that was not a hand-off, and how many of those were done. */
function firstAttemptDone(attempts: readonly Attempt[]): number | null {
  const first = new Map<number, Attempt>();
  for (const a of attempts) {
    if (a.outcome === null || a.outcome === "handed_on") continue;
    const seen = first.get(a.wo);
    if (!seen || a.token < seen.token) first.set(a.wo, a);
  }
  if (first.size === 0) return null;
  const done = [...first.values()].filter((a) => a.outcome === "done").length;
  return Math.round((done / first.size) * 1e6) / 1e6;
}

const attemptKey = (a: { wo: number; token: number }) => `${a.wo}#${a.token}`;

/** The group keys of each attempt and spend record for `by` (a WO with two labels counts under both). */
function keysOf(by: ReportBy, w: Window): { attempt: (a: Attempt) => string[]; spend: (s: SpendRecord) => string[] } {
  const label = (wo: number) => {
    const l = w.labels.get(wo) ?? [];
    return l.length ? [...l] : [NO_GROUP];
  };
  if (by === "agent") return { attempt: (a) => [a.agent], spend: (s) => [s.agent] };
  if (by === "wo") return { attempt: (a) => [`WO-${a.wo}`], spend: (s) => [`WO-${s.wo}`] };
  if (by === "label") return { attempt: (a) => label(a.wo), spend: (s) => label(s.wo) };
  // phase and model are properties of spend: an attempt counts under each one its spend had
  const of = (s: SpendRecord) => (by === "phase" ? s.phase : (s.model ?? NO_GROUP));
  const perAttempt = new Map<string, Set<string>>();
  for (const s of w.spend) {
    const k = attemptKey(s);
    if (!perAttempt.has(k)) perAttempt.set(k, new Set());
    perAttempt.get(k)!.add(of(s));
  }
  return { attempt: (a) => [...(perAttempt.get(attemptKey(a)) ?? [NO_GROUP])], spend: (s) => [of(s)] };
}

export function buildReport(project: string, since: string, until: string, by: ReportBy, w: Window): Report {
  const keys = keysOf(by, w);
  const groups = new Map<string, { attempts: Attempt[]; spend: SpendRecord[] }>();
  const group = (k: string) => {
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { attempts: [], spend: [] }));
    return g;
  };
  for (const a of w.attempts) for (const k of keys.attempt(a)) group(k).attempts.push(a);
  for (const s of w.spend) for (const k of keys.spend(s)) group(k).spend.push(s);
  const rows = [...groups.entries()].map(([k, g]) => row(k, g.attempts, g.spend)).sort((a, b) => b.usd - a.usd || b.attempts - a.attempts || a.key.localeCompare(b.key));
  const enriched = new Set(w.spend.filter((s) => s.phase === "enrich").map((s) => s.wo));
  const part = (key: string, yes: boolean, wos?: ReadonlySet<number>) =>
    row(
      key,
      w.attempts.filter((a) => enriched.has(a.wo) === yes && (!wos || wos.has(a.wo))),
      w.spend.filter((s) => enriched.has(s.wo) === yes && (!wos || wos.has(s.wo))),
    );
  // Per model: the WOs whose execute spend names it (a WO done by two models counts under both).
  const byModel = new Map<string, Set<number>>();
  for (const s of w.spend) {
    if (s.phase !== "execute") continue;
    const m = s.model ?? NO_GROUP;
    if (!byModel.has(m)) byModel.set(m, new Set());
    byModel.get(m)!.add(s.wo);
  }
  const by_model = [...byModel.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([m, wos]) => [part(`${m}, with enrich`, true, wos), part(`${m}, without enrich`, false, wos)]);
  const days = new Map<string, { day: string; key: string; micros: number; tokens: number }>();
  for (const s of w.spend) {
    for (const key of keys.spend(s)) {
      const day = s.created_at.slice(0, 10);
      const d = days.get(`${day}\0${key}`) ?? { day, key, micros: 0, tokens: 0 };
      d.micros += toMicros(s.cost_usd ?? 0);
      d.tokens += s.tokens_in + s.tokens_out;
      days.set(`${day}\0${key}`, d);
    }
  }
  return {
    project,
    since,
    until,
    by,
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day) || a.key.localeCompare(b.key)).map(({ micros, ...d }) => ({ ...d, usd: toUsd(micros) })),
    rows,
    totals: row("total", w.attempts, w.spend),
    enrichment: { with_enrich: part("with enrich", true), without_enrich: part("without enrich", false), by_model },
  };
}
