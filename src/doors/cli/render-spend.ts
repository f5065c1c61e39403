/** Human rendering of attempts, spend, budgets and reports. */
import type { AttemptView, SpendResult } from "../../core/ledger.js";
import { formatDuration } from "../../core/duration.js";
import { NO_ATTEMPT } from "../../core/spend.js";
import type { Report, ReportRow } from "../../core/report.js";
import { formatTokens as count, formatUsd as money } from "../../core/pricing.js";
import type { WorkOrder } from "../../core/types.js";
import { c, relative, shown, table } from "./output.js";

/** `$1.20 / 5 attempts` style caps, or "" without any. */
export function capsText(p: { max_usd: number | null; max_tokens: number | null; max_attempts: number | null }): string {
  const caps = [
    p.max_usd === null ? "" : `${money(p.max_usd)}`,
    p.max_tokens === null ? "" : `${count(p.max_tokens)} tokens`,
    p.max_attempts === null ? "" : `${p.max_attempts} attempts`,
  ];
  return caps.filter(Boolean).join(", ");
}

/** A WO's use against its caps: `attempts 2/3 · $0.41/$1.00 · 12.3k tokens`. */
export function budgetLine(wo: WorkOrder): string {
  if (wo.attempts === 0 && wo.spend.usd === 0 && wo.spend.tokens_in + wo.spend.tokens_out === 0 && !capsText(wo)) return "";
  const of = (used: string, cap: string | null) => (cap === null ? used : `${used}/${cap}`);
  const tokens = wo.spend.tokens_in + wo.spend.tokens_out;
  const parts = [
    `attempts ${of(String(wo.attempts), wo.max_attempts === null ? null : String(wo.max_attempts))}`,
    `${of(money(wo.spend.usd), wo.max_usd === null ? null : money(wo.max_usd))}${wo.spend.unpriced ? ` (+${wo.spend.unpriced} unpriced)` : ""}`,
    `${of(count(tokens), wo.max_tokens === null ? null : count(wo.max_tokens))} tokens`,
  ];
  return parts.join(" · ");
}

export const outcomeText = (d: Record<string, unknown>) =>
  `${typeof d.outcome === "string" ? ` [${d.outcome}]` : ""}${typeof d.dead_letter === "string" ? ` dead-letter: ${d.dead_letter}` : ""}`;

export const spendText = (d: Record<string, unknown>) =>
  `${String(d.phase)} ${d.model === null ? "" : `${String(d.model)} `}${count(Number(d.tokens_in))} in / ${count(Number(d.tokens_out))} out, ${money(d.cost_usd as number | null)} (${Number(d.token) === NO_ATTEMPT ? "no attempt" : `attempt ${String(d.token)}`})`;

export function spendResult(r: SpendResult): string {
  if (r.spend === null)
    return c.dim(`nothing new to record for WO-${r.work_order.id} (${r.attempt ? `attempt ${r.attempt.token}` : "no attempt"}): the source reported no more than before`);
  const s = r.spend;
  const cost = s.cost_usd === null ? c.yellow("cost unknown (no price for this model; pass --cost-usd or set project prices)") : money(s.cost_usd);
  return `recorded ${s.phase} spend on WO-${s.wo} ${s.token === NO_ATTEMPT ? "(no attempt)" : `attempt ${s.token}`}: ${count(s.tokens_in)} in / ${count(s.tokens_out)} out, ${cost}\n${budgetLine(r.work_order)}`;
}

export function attempts(list: readonly AttemptView[]): string {
  if (list.length === 0) return c.dim("no attempts: nobody has claimed it yet");
  const head = ["#", "AGENT", "STARTED", "LASTED", "OUTCOME", "SPEND", "TOKENS"].map(c.dim);
  return table([
    head,
    ...list.map((a) => [
      String(a.token),
      shown(a.agent),
      relative(a.started_at),
      a.duration_ms === null ? "running" : formatDuration(a.duration_ms),
      a.outcome ?? c.green("running"),
      money(a.spend.usd) + (a.spend.unpriced ? "+?" : ""),
      count(a.spend.tokens_in + a.spend.tokens_out),
    ]),
  ]);
}

const REPORT_HEAD = [
  "attempts",
  "done",
  "blocked",
  "released",
  "expired",
  "lost",
  "handed_on",
  "running",
  "done_wos",
  "usd",
  "tokens_in",
  "tokens_out",
  "unpriced",
  "attempts_per_done_wo",
  "cost_per_done_wo",
  "first_attempt_done",
  "execute_cost_per_done_wo",
];
const cells = (r: ReportRow): (string | number | null)[] => [
  r.attempts,
  r.outcomes.done,
  r.outcomes.blocked,
  r.outcomes.released,
  r.outcomes.expired,
  r.outcomes.lost,
  r.outcomes.handed_on,
  r.outcomes.running,
  r.done_wos,
  r.usd,
  r.tokens_in,
  r.tokens_out,
  r.unpriced,
  r.attempts_per_done_wo,
  r.cost_per_done_wo,
  r.first_attempt_done,
  r.execute_cost_per_done_wo,
];

export function report(r: Report): string {
  const line = (x: ReportRow) => [
    shown(x.key),
    String(x.attempts),
    `${x.outcomes.done}/${x.outcomes.blocked}/${x.outcomes.released}/${x.outcomes.expired + x.outcomes.lost}`,
    String(x.done_wos),
    money(x.usd) + (x.unpriced ? "+?" : ""),
    count(x.tokens_in + x.tokens_out),
    x.cost_per_done_wo === null ? "-" : money(x.cost_per_done_wo),
    x.attempts_per_done_wo === null ? "-" : x.attempts_per_done_wo.toFixed(2),
    x.first_attempt_done === null ? "-" : `${Math.round(x.first_attempt_done * 100)}%`,
    x.execute_cost_per_done_wo === null ? "-" : money(x.execute_cost_per_done_wo),
  ];
  const head = [r.by.toUpperCase(), "ATTEMPTS", "DONE/BLK/REL/EXP", "DONE WOS", "SPEND", "TOKENS", "COST/DONE WO", "ATTEMPTS/DONE WO", "DONE 1ST TRY", "EXECUTE/DONE WO"].map(
    c.dim,
  );
  const e = r.enrichment;
  return [
    `project ${r.project}, ${r.since} to ${r.until}`,
    table([head, ...r.rows.map(line), line(r.totals)]),
    "",
    c.dim("enrichment: is it worth its spend?"),
    table([["", ...head.slice(1)], line(e.with_enrich), line(e.without_enrich), ...e.by_model.map(line)]),
  ].join("\n");
}

/** The report as CSV: one line per row, the totals and the enrichment rows (also per model), with a `group` column saying which. */
export function reportCsv(r: Report): string {
  const esc = (v: string | number | null) => (v === null ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const rows: [string, ReportRow][] = [
    ...r.rows.map((x): [string, ReportRow] => [r.by, x]),
    ["total", r.totals],
    ["enrichment", r.enrichment.with_enrich],
    ["enrichment", r.enrichment.without_enrich],
    ...r.enrichment.by_model.map((x): [string, ReportRow] => ["enrichment by model", x]),
  ];
  return [["group", "key", ...REPORT_HEAD].join(","), ...rows.map(([g, x]) => [g, x.key, ...cells(x)].map(esc).join(","))].join("\n");
}
