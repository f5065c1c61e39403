/**
 * Spend and outcome reports (DESIGN.md §10): pure folds of a window's
 * attempts and spend records into rows by agent, phase, label, WO or model,
 * and the seed's question (is enrichment worth its spend?): WOs that had an
 * `enrich` phase against those that did not.
 */
import { toUsd } from "./pricing.js";
import type { REPORT_BY } from "./schemas.js";
import { ATTEMPT_OUTCOMES, type Attempt as StoredAttempt, type AttemptOutcome, type SpendRecord as StoredSpend } from "./types.js";

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

/** The parts of attempts and spend records a report reads (the store's reportWindow); cost in micro-dollars, null when unknown. */
export interface ReportWindow {
  attempts: Pick<StoredAttempt, "wo" | "token" | "agent" | "outcome">[];
  /** `day`: the UTC day of created_at (YYYY-MM-DD). */
  spend: (Pick<StoredSpend, "wo" | "token" | "agent" | "phase" | "model" | "tokens_in" | "tokens_out"> & { cost_micros: number | null; day: string })[];
}
type Attempt = ReportWindow["attempts"][number];
type SpendRecord = ReportWindow["spend"][number];

interface Window {
  attempts: readonly Attempt[];
  spend: readonly SpendRecord[];
  labels: ReadonlyMap<number, readonly string[]>;
}

const OUTCOMES = [...ATTEMPT_OUTCOMES, "running"] as const;

/**
 * One row's figures, added up one attempt or spend record at a time: a
 * report folds every record once into each group it belongs to (a week of a
 * busy project is thousands of each; issue 29 item 7). Attempts come ordered
 * by WO and token, so what is counted once per WO needs no set of WOs.
 */
class Tally {
  private attempts = 0;
  /** Attempts by outcome, in OUTCOMES' order. */
  private readonly outcomes = OUTCOMES.map(() => 0);
  private doneWos = 0;
  /** WOs with an ended attempt that was not a hand-off, and those whose first such attempt was done. */
  private triedWos = 0;
  private firstDone = 0;
  /** The WO of the last attempt, and whether it has been counted as done and as tried. */
  private wo = -1;
  private woDone = false;
  private woTried = false;
  private micros = 0;
  private executeMicros = 0;
  private tokensIn = 0;
  private tokensOut = 0;
  private unpriced = 0;

  attempt(a: Attempt): void {
    this.attempts++;
    this.outcomes[OUTCOMES.indexOf(a.outcome ?? "running")]!++;
    if (a.wo !== this.wo) [this.wo, this.woDone, this.woTried] = [a.wo, false, false];
    if (a.outcome === "done" && !this.woDone) [this.woDone, this.doneWos] = [true, this.doneWos + 1];
    if (a.outcome === null || a.outcome === "handed_on" || this.woTried) return;
    this.woTried = true;
    this.triedWos++;
    if (a.outcome === "done") this.firstDone++;
  }

  spend(s: SpendRecord): void {
    const micros = s.cost_micros ?? 0;
    this.micros += micros;
    if (s.phase === "execute") this.executeMicros += micros;
    this.tokensIn += s.tokens_in;
    this.tokensOut += s.tokens_out;
    if (s.cost_micros === null) this.unpriced++;
  }

  row(key: string): ReportRow {
    const done = this.doneWos;
    return {
      key,
      attempts: this.attempts,
      outcomes: Object.fromEntries(OUTCOMES.map((o, i) => [o, this.outcomes[i]])) as ReportRow["outcomes"],
      done_wos: done,
      usd: toUsd(this.micros),
      tokens_in: this.tokensIn,
      tokens_out: this.tokensOut,
      unpriced: this.unpriced,
      attempts_per_done_wo: done ? Math.round((this.attempts / done) * 1e6) / 1e6 : null,
      cost_per_done_wo: done ? toUsd(Math.round(this.micros / done)) : null,
      // See ReportRow.first_attempt_done.
      first_attempt_done: this.triedWos ? Math.round((this.firstDone / this.triedWos) * 1e6) / 1e6 : null,
      execute_cost_per_done_wo: done ? toUsd(Math.round(this.executeMicros / done)) : null,
    };
  }
}

/** Tallies by key, made on first use, in the order first used. */
class Tallies extends Map<string, Tally> {
  of(key: string): Tally {
    let t = this.get(key);
    if (!t) this.set(key, (t = new Tally()));
    return t;
  }
}

const attemptKey = (a: { wo: number; token: number }) => `${a.wo}#${a.token}`;

/** The group keys of each attempt and spend record for `by` (a WO with two labels counts under both). */
function keysOf(by: ReportBy, w: Window): { attempt: (a: Attempt) => readonly string[]; spend: (s: SpendRecord) => readonly string[] } {
  const none = [NO_GROUP];
  const label = (wo: number) => {
    const l = w.labels.get(wo);
    return l?.length ? l : none;
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
  return { attempt: (a) => [...(perAttempt.get(attemptKey(a)) ?? none)], spend: (s) => [of(s)] };
}

export function buildReport(project: string, since: string, until: string, by: ReportBy, w: Window): Report {
  const keys = keysOf(by, w);
  const groups = new Tallies();
  const totals = new Tally();
  // The enrichment split: WOs with spend in an `enrich` phase against the others, and per model of their execute spend.
  const enriched = new Set<number>();
  const modelsOf = new Map<number, Set<string>>();
  for (const s of w.spend) {
    if (s.phase === "enrich") enriched.add(s.wo);
    if (s.phase !== "execute") continue;
    const models = modelsOf.get(s.wo) ?? new Set<string>();
    modelsOf.set(s.wo, models.add(s.model ?? NO_GROUP));
  }
  const split = new Tallies();
  const models = [...new Set([...modelsOf.values()].flatMap((m) => [...m]))].sort((a, b) => a.localeCompare(b));
  for (const m of models) for (const part of [", with enrich", ", without enrich"]) split.of(m + part);
  const sidesOf = new Map<number, Tally[]>();
  const sides = (wo: number) => {
    let tallies = sidesOf.get(wo);
    if (!tallies) {
      const side = enriched.has(wo) ? "with enrich" : "without enrich";
      sidesOf.set(wo, (tallies = [split.of(side), ...[...(modelsOf.get(wo) ?? [])].map((m) => split.of(`${m}, ${side}`))]));
    }
    return tallies;
  };
  for (const a of [...w.attempts].sort((x, y) => x.wo - y.wo || x.token - y.token)) {
    totals.attempt(a);
    for (const k of keys.attempt(a)) groups.of(k).attempt(a);
    for (const t of sides(a.wo)) t.attempt(a);
  }
  const days = new Map<string, { day: string; key: string; micros: number; tokens: number }>();
  for (const s of w.spend) {
    totals.spend(s);
    for (const t of sides(s.wo)) t.spend(s);
    const day = s.day;
    for (const key of keys.spend(s)) {
      groups.of(key).spend(s);
      const d = days.get(`${day}\0${key}`) ?? { day, key, micros: 0, tokens: 0 };
      d.micros += s.cost_micros ?? 0;
      d.tokens += s.tokens_in + s.tokens_out;
      days.set(`${day}\0${key}`, d);
    }
  }
  const rows = [...groups].map(([k, t]) => t.row(k)).sort((a, b) => b.usd - a.usd || b.attempts - a.attempts || a.key.localeCompare(b.key));
  return {
    project,
    since,
    until,
    by,
    days: [...days.values()].sort((a, b) => a.day.localeCompare(b.day) || a.key.localeCompare(b.key)).map(({ micros, ...d }) => ({ ...d, usd: toUsd(micros) })),
    rows,
    totals: totals.row("total"),
    enrichment: {
      with_enrich: split.of("with enrich").row("with enrich"),
      without_enrich: split.of("without enrich").row("without enrich"),
      by_model: models.flatMap((m) => [`${m}, with enrich`, `${m}, without enrich`].map((k) => split.of(k).row(k))),
    },
  };
}
