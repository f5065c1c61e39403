/** Spend reports, attempts and the report over a window. */
import * as rules from "../rules.js";
import { NO_SPEND, addSpend } from "../budget.js";
import { once } from "../idempotency.js";
import type { Tx } from "../port.js";
import { costOf, priceOf } from "../pricing.js";
import { buildReport, type Report } from "../report.js";
import { MAX_USD, inputs, type Inputs } from "../schemas.js";
import { NO_ATTEMPT, assertReportBound, attemptFor, growth, isOutside, recordSpend, type Figures } from "../spend.js";
import { getOrNotFound, loadForWrite, persist, requireProject } from "../steps.js";
import type { SpendTotals, StoredWorkOrder } from "../types.js";
import { parse } from "../validate.js";
import type { AttemptView, SpendReport, SpendResult } from "./results.js";
import { DEFAULT_LIST_LIMIT, MAX_ROWS, policyOf, type Service } from "./shared.js";

/** Records one spend report on `wo` (loaded for write in this transaction; `next` is it afterwards); see spend(). */
export async function spendIn(tx: Tx, wo: StoredWorkOrder, s: SpendReport): Promise<{ result: SpendResult; next: StoredWorkOrder }> {
  const attempts = await tx.listAttempts({ project: wo.project, wo: wo.id, limit: MAX_ROWS });
  const attempt = attemptFor(wo, attempts, s.agent, s.role, s.lease_token, tx.now());
  // A lease claimed before attempts were recorded (an upgrade mid-lease) gets its row now.
  if (attempt && !attempts.some((a) => a.token === attempt.token)) await tx.saveAttempt(attempt);
  const token = attempt?.token ?? NO_ATTEMPT;
  const model = s.model ?? null;
  let figures: Figures | null = {
    tokens_in: s.tokens_in ?? 0,
    tokens_out: s.tokens_out ?? 0,
    cache_read_tokens: s.cache_read_tokens ?? 0,
    cache_write_tokens: s.cache_write_tokens ?? 0,
    cost_usd: s.cost_usd ?? null,
  };
  if (s.source !== undefined) {
    const before = (await tx.listSpend({ project: wo.project, wo: wo.id, token, source: s.source, limit: MAX_ROWS })).filter((r) => r.model === model);
    figures = growth(figures, before);
    if (figures === null) return { result: { spend: null, attempt, work_order: rules.toPublic(wo) }, next: wo };
  }
  const cost = figures.cost_usd ?? (model === null ? null : costOf(figures, priceOf(model, (await policyOf(tx, wo.project)).prices)));
  assertReportBound(cost, MAX_USD);
  const record = await tx.insertSpend({
    project: wo.project,
    wo: wo.id,
    token,
    agent: s.agent,
    phase: s.phase ?? "execute",
    model,
    ...figures,
    cost_usd: cost,
    source: s.source ?? null,
    created_at: tx.now(),
  });
  const outside = isOutside(wo, attempt, s.agent, s.role, tx.now());
  const change = recordSpend(wo, attempt, record, tx.now(), outside);
  await persist(tx, change);
  // Unpriced spend counts toward no USD cap: say so where there is one (seventeenth MCP trial: ten million tokens of an unknown model, no word).
  const unpriced =
    cost === null && wo.max_usd !== null
      ? [
          `${rules.label(wo.id)}: no price is known for ${model === null ? "spend without a model" : `model ${model}`}, so this report counts toward no USD cap (its tokens still count toward max_tokens): report cost_usd, or an admin sets the model's price`,
        ]
      : [];
  // Said, not refused: planning and review spend is the WO's too (issue 23 item 9); a holder's report that lands here means it lost track (twenty-seventh MCP trial).
  const unattached =
    attempt === null
      ? [
          `recorded against ${rules.label(wo.id)} itself, not an attempt: you hold no lease on it and never did (planning or review spend); it counts in its totals and report, ${outside ? "not toward its budget (that bounds its holders', its creator's and admins' spend)" : "and toward its budget"}`,
        ]
      : [];
  const warnings = [...(change.warnings ?? []), ...unpriced, ...unattached];
  const result = { spend: record, attempt: change.attempt ?? attempt, work_order: rules.toPublic(change.next), ...(warnings.length ? { warnings } : {}) };
  return { result, next: change.next };
}

/**
 * Records spend against an attempt (DESIGN.md §10): the caller's current
 * one, or after it ended its latest (agents report after finishing), or the
 * one its token names. With a source the figures are that source's running
 * totals and only their growth is recorded, so a transcript read twice
 * counts once. Append-only.
 */
export async function spend(svc: Service, input: Inputs["spend"]): Promise<SpendResult> {
  const s = parse(inputs.spend, input);
  return svc.write((tx) => once(tx, "spend", s, async () => (await spendIn(tx, await loadForWrite(tx, s.project, s.id), s)).result), s.role);
}

/** Attempts oldest first (of a WO, or of the project: an agent's, recent ones), each with its length and spend. */
export async function attempts(svc: Service, input: Inputs["attempts"]): Promise<AttemptView[]> {
  const q = parse(inputs.attempts, input);
  await svc.sweep(q.project);
  return svc.store.read(async (tx) => {
    if (q.id !== undefined) await getOrNotFound(tx, q.project, q.id);
    else await requireProject(tx, q.project);
    const since = q.since === undefined ? undefined : new Date(Date.parse(tx.now()) - q.since).toISOString();
    const list = await tx.listAttempts({ project: q.project, wo: q.id, agent: q.agent, since, limit: q.limit ?? DEFAULT_LIST_LIMIT });
    const from = list[0]?.started_at;
    const totals = new Map<string, SpendTotals>();
    for (const r of from === undefined ? [] : await tx.listSpend({ project: q.project, wo: q.id, since: from, limit: MAX_ROWS }))
      totals.set(`${r.wo}#${r.token}`, addSpend(totals.get(`${r.wo}#${r.token}`) ?? NO_SPEND, r));
    return list.map((a) => ({
      ...a,
      duration_ms: a.ended_at === null ? null : Date.parse(a.ended_at) - Date.parse(a.started_at),
      spend: totals.get(`${a.wo}#${a.token}`) ?? NO_SPEND,
    }));
  });
}

/** Spend, attempts and outcomes of a project over a window, grouped (see report.ts). */
export async function report(svc: Service, input: Inputs["report"]): Promise<Report> {
  const r = parse(inputs.report, input);
  await svc.sweep(r.project);
  return svc.store.read(async (tx) => {
    await requireProject(tx, r.project);
    const until = tx.now();
    const since = new Date(Date.parse(until) - (r.since ?? 7 * 86_400_000)).toISOString();
    const by = r.by ?? "agent";
    const { attempts, spend } = await tx.reportWindow(r.project, since, MAX_ROWS);
    // Labels are read only for a report by label (a week's WOs are thousands).
    const ids = by === "label" ? [...new Set([...attempts.map((a) => a.wo), ...spend.map((s) => s.wo)])] : [];
    const labels = new Map((await tx.labelsOf(r.project, ids)).map((l) => [l.id, l.labels]));
    const report = buildReport(r.project, since, until, by, { attempts, spend, labels });
    // Bounded in memory: past MAX_ROWS of either, the report covers the newest and says so.
    return attempts.length === MAX_ROWS || spend.length === MAX_ROWS ? { ...report, truncated: true } : report;
  });
}
