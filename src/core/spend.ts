/**
 * Spend reports (DESIGN.md §10): which attempt a report belongs to, what a
 * cumulative report (a transcript read again) adds, and the change recording
 * one makes to its WO. Pure functions; Ledger.spend runs them in one
 * transaction.
 */
import { addSpend, capReached, deadLetterNote, spendCapReached } from "./budget.js";
import { LedgerError } from "./errors.js";
import { toMicros, toUsd, type Usage } from "./pricing.js";
import { isLive, type Change } from "./rules.js";
import { label, type Attempt, type Role, type SpendRecord, type StoredWorkOrder } from "./types.js";

/** The token of spend recorded against a WO outside any attempt (planning and review by agents that never claimed it). */
export const NO_ATTEMPT = 0;

/**
 * The attempt a report is for: the one its token names, else the caller's
 * live lease, else the caller's newest attempt on the WO (agents report after
 * they finish), else none: an agent that never claimed the WO (a planner
 * enriching it, a reviewer) reports against the WO itself. Only an attempt's
 * own agent (or an admin) reports against it.
 */
export function attemptFor(wo: StoredWorkOrder, attempts: readonly Attempt[], agent: string, role: Role | undefined, token: number | undefined, now: string): Attempt | null {
  if (token !== undefined) {
    const a = attempts.find((x) => x.token === token);
    if (!a) {
      throw new LedgerError("NOT_FOUND", `${label(wo.id)} has no attempt ${token} (it has had ${wo.fence})`, {
        hint: "leave out the token to report against your current or latest attempt",
        details: { project: wo.project, id: wo.id, token, attempts: wo.fence },
      });
    }
    if (a.agent !== agent && role !== "admin") {
      throw new LedgerError("FORBIDDEN", `attempt ${token} of ${label(wo.id)} is ${a.agent}'s; report spend against your own attempt`, {
        details: { project: wo.project, id: wo.id, token, agent: a.agent },
      });
    }
    return a;
  }
  const live = isLive(wo.lease, now) && wo.lease.agent === agent ? wo.lease.token : null;
  const mine = attempts.filter((a) => a.agent === agent);
  return mine.find((x) => x.token === live) ?? mine.at(-1) ?? null;
}

export type Figures = Usage & { cost_usd: number | null };

/**
 * What a cumulative report adds over what its source reported before: each
 * figure's growth, never negative (a shorter transcript adds nothing). Null
 * when nothing grew, so reading the same transcript twice records nothing.
 */
export function growth(total: Figures, before: readonly SpendRecord[]): Figures | null {
  const sum = (k: keyof Usage) => before.reduce((n, r) => n + r[k], 0);
  const more = (k: keyof Usage) => Math.max(0, total[k] - sum(k));
  const out: Figures = {
    tokens_in: more("tokens_in"),
    tokens_out: more("tokens_out"),
    cache_read_tokens: more("cache_read_tokens"),
    cache_write_tokens: more("cache_write_tokens"),
    cost_usd: total.cost_usd === null ? null : toUsd(Math.max(0, toMicros(total.cost_usd) - before.reduce((n, r) => n + toMicros(r.cost_usd ?? 0), 0))),
  };
  return out.tokens_in || out.tokens_out || out.cost_usd ? out : null;
}

/**
 * Whether a report is outside the attempt a cap judges: against an attempt another has started after, or
 * made without one while another agent holds the WO, or by an agent that never
 * held it and did not create it. It is recorded and counted, but never against
 * a cap, so a former holder cannot end the current attempt or dead-letter the
 * WO at its end (issue 24), and no other agent can dead-letter it by reporting
 * spend on it (sixteenth MCP trial). A report after one's own release, before
 * anyone claims again, is not outside: agents report when they finish, and
 * that spend is what the cap is for; nor is its creator's (a planner's) or an
 * admin's.
 */
export function isOutside(wo: StoredWorkOrder, attempt: Attempt | null, agent: string, role: Role | undefined, now: string): boolean {
  if (attempt) return attempt.token !== wo.fence;
  if (isLive(wo.lease, now)) return wo.lease.agent !== agent;
  return agent !== wo.created_by && role !== "admin";
}

/** One report's cost is bounded like a cost given by hand: a token count at a high price must not record more. */
export function assertReportBound(cost: number | null, max: number): void {
  if (cost === null || cost <= max) return;
  throw new LedgerError("VALIDATION", `cost_usd: this report costs ${cost.toFixed(2)} USD at the model's price, more than one report may (${max} USD)`, {
    hint: "report each phase as it ends, in smaller reports; check the token counts",
    details: { issues: [{ field: "cost_usd", message: `at most ${max} USD per report` }] },
  });
}

/**
 * The WO after one more spend record: its totals grow; an attempt whose lease
 * had already lapsed is `lost` (its agent was still working); a WO nobody
 * holds that reaches a cap is dead-lettered; a live holder is warned that it
 * cannot renew past the cap. A report outside changes nothing but the totals.
 * A report is accounting, not a revision (like a note): it never breaks the
 * holder's compare-and-set; a dead-letter it causes is.
 */
export function recordSpend(wo: StoredWorkOrder, attempt: Attempt | null, r: SpendRecord, now: string, outside = false): Change {
  const spend = addSpend(wo.spend, r, outside);
  let next: StoredWorkOrder = { ...wo, spend, updated_at: now };
  const data = {
    spend_id: r.id,
    token: r.token,
    phase: r.phase,
    model: r.model,
    tokens_in: r.tokens_in,
    tokens_out: r.tokens_out,
    cost_usd: r.cost_usd,
    ...(r.source ? { source: r.source } : {}),
  };
  const events: Change["events"] = [{ project: wo.project, wo: wo.id, type: "spend_recorded", agent: r.agent, revision: next.revision, at: now, data }];
  const change: Change = { prev: wo, next, events };
  if (attempt?.outcome === "expired") change.attempt = { ...attempt, outcome: "lost" };
  const reason = spendCapReached(next);
  if (outside || reason === null || spendCapReached(wo) !== null) return change;
  if (isLive(wo.lease, now)) {
    change.warnings = [capReached(next, reason)];
  } else if (wo.status === "open") {
    const body = deadLetterNote(next, reason);
    change.next = next = { ...next, status: "blocked", dead_letter: reason, revision: next.revision + 1 };
    events.push({
      project: wo.project,
      wo: wo.id,
      type: "status_changed",
      agent: r.agent,
      revision: next.revision,
      at: now,
      data: { from: "open", to: "blocked", dead_letter: reason },
    });
    change.note = { kind: "blocker", body };
    change.warnings = [body];
  }
  return change;
}
