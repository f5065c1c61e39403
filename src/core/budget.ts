/**
 * Budgets and dead-letter (DESIGN.md §10), as pure functions of the stored
 * WO. A WO's caps are its own fields (a project's defaults are copied in when
 * it is created). The attempts cap stops new claims; the USD and token caps
 * stop renewals too. When an attempt ends without finishing and a cap is
 * reached, the WO goes to `blocked` with the reason (its dead-letter) instead
 * of back to the queue; raising the cap returns it.
 */
import { LedgerError } from "./errors.js";
import { formatUsd as usd, toMicros, toUsd } from "./pricing.js";
import { CAP_FIELDS, label, type CapField, type Role, type SpendTotals, type StoredWorkOrder } from "./types.js";

/**
 * A reached spend cap (USD or tokens), or null. Spend reported from outside
 * the attempt a cap judges (spend.ts isOutside) does not count: a former
 * holder's report can never end another attempt or dead-letter the WO.
 */
export function spendCapReached(wo: StoredWorkOrder): string | null {
  const spent = toUsd(toMicros(wo.spend.usd) - toMicros(wo.spend.outside_usd ?? 0));
  if (wo.max_usd !== null && toMicros(spent) >= toMicros(wo.max_usd)) return `${usd(spent)} spent of a ${usd(wo.max_usd)} cap`;
  const tokens = wo.spend.tokens_in + wo.spend.tokens_out - (wo.spend.outside_tokens ?? 0);
  if (wo.max_tokens !== null && tokens >= wo.max_tokens) return `${tokens} tokens used of a ${wo.max_tokens} cap`;
  return null;
}

/** Why no further attempt may start (a cap reached), or null. */
export function budgetReached(wo: StoredWorkOrder): string | null {
  if (wo.max_attempts !== null && wo.fence >= wo.max_attempts) return `${wo.fence} of ${wo.max_attempts} attempts used`;
  return spendCapReached(wo);
}

/**
 * A WO's caps given by a non-admin may only tighten the project's defaults:
 * never remove one (null) or raise it, or an agent could opt its work out of
 * the budget an admin set (issue 24).
 */
export function assertWithinCaps(item: { [K in CapField]?: number | null | undefined }, defaults: Record<CapField, number | null>, role: Role | undefined, at: string): void {
  if (role === "admin") return;
  const loose = CAP_FIELDS.filter((c) => {
    const given = item[c];
    const cap = defaults[c];
    return given !== undefined && cap !== null && (given === null || given > cap);
  });
  if (loose.length === 0) return;
  const what = loose.map((c) => `${c} ${item[c] ?? "none"} (the project's is ${defaults[c]})`).join(", ");
  throw new LedgerError("FORBIDDEN", `only admins may raise or remove a project's budget caps: ${what}`, {
    hint: "leave the caps out to get the project's, or give smaller ones; an admin can change the project's defaults",
    details: { issues: loose.map((c) => ({ field: `${at}${c}`, message: `at most the project's ${defaults[c]}` })) },
  });
}

/**
 * The cap flags an admin raises for this reason (for hints): above what the caps count (spend reported from outside any
 * attempt is not: thirty-first MCP trial, non-holders' $100 inflated the figure), by one more cap's worth.
 */
function raise(wo: StoredWorkOrder): string {
  if (wo.max_attempts !== null && wo.fence >= wo.max_attempts) return `{{max_attempts=${wo.fence + 1}}}`;
  if (wo.max_usd !== null && spendCapReached(wo)?.startsWith("$")) {
    const counted = toMicros(wo.spend.usd) - toMicros(wo.spend.outside_usd ?? 0);
    return `{{max_usd=${toUsd(Math.ceil((Math.max(counted, toMicros(wo.max_usd)) + toMicros(wo.max_usd)) / 10_000) * 10_000)}}}`;
  }
  const tokens = wo.spend.tokens_in + wo.spend.tokens_out - (wo.spend.outside_tokens ?? 0);
  return `{{max_tokens=${Math.max(tokens, wo.max_tokens ?? 0) + (wo.max_tokens ?? 0)}}}`;
}

export function budgetExhausted(wo: StoredWorkOrder, reason: string, what: "claimed" | "renewed" | "reopened"): LedgerError {
  return new LedgerError("BUDGET_EXHAUSTED", `${label(wo.id)} cannot be ${what}: its budget is used up (${reason})${wo.dead_letter ? "; it is blocked (dead-letter)" : ""}`, {
    hint:
      what === "renewed"
        ? "finish now: {{op:release}} it with a status, or with a note saying what is left (an admin can raise the cap)"
        : `pick another work order ({{op:findUnclaimed}}); an admin can raise the cap with {{op:update}} ${raise(wo)}, which returns it to the queue`,
    details: { project: wo.project, id: wo.id, reason, max_usd: wo.max_usd, max_tokens: wo.max_tokens, max_attempts: wo.max_attempts, attempts: wo.fence, spend: wo.spend },
  });
}

/** What a holder still working past a USD or token cap is told (it may finish; it cannot renew). */
export const capReached = (wo: StoredWorkOrder, reason: string) => `${label(wo.id)} has used its budget (${reason}): finish now; the lease cannot be renewed`;

/** The note a dead-lettered WO gets, for whoever looks at it next. */
export const deadLetterNote = (wo: StoredWorkOrder, reason: string) =>
  `budget exhausted (${reason}): ${label(wo.id)} is blocked and out of the queue; an admin can raise its cap (max_attempts, max_usd or max_tokens) to return it`;

export const NO_SPEND: SpendTotals = { usd: 0, tokens_in: 0, tokens_out: 0, unpriced: 0 };

/**
 * Totals after one more record (money summed in micro-dollars, so it stays
 * exact); one reported from outside the attempt a cap judges is also counted
 * in `outside_usd` and `outside_tokens`.
 */
export function addSpend(t: SpendTotals, r: { cost_usd: number | null; tokens_in: number; tokens_out: number }, outside = false): SpendTotals {
  const sum: SpendTotals = {
    ...t,
    usd: toUsd(toMicros(t.usd) + toMicros(r.cost_usd ?? 0)),
    tokens_in: t.tokens_in + r.tokens_in,
    tokens_out: t.tokens_out + r.tokens_out,
    unpriced: t.unpriced + (r.cost_usd === null ? 1 : 0),
  };
  if (!outside) return sum;
  return { ...sum, outside_usd: toUsd(toMicros(t.outside_usd ?? 0) + toMicros(r.cost_usd ?? 0)), outside_tokens: (t.outside_tokens ?? 0) + r.tokens_in + r.tokens_out };
}
