/**
 * Retention (issue 29): what is left of a finished WO's spend once its history
 * is pruned. Reports (core/report.ts) sum cost and tokens per attempt, agent,
 * phase, model and UTC day, and count unpriced records one by one; so priced
 * records are folded into one per attempt, agent, phase, model, source and
 * day, and unpriced ones are kept as they are. A report over whole days, or
 * over the whole pruned span, gives the same figures as before.
 */
import { toMicros, toUsd } from "./pricing.js";
import type { SpendRecord } from "./types.js";

export type NewSpend = Omit<SpendRecord, "id">;

export function compactSpend(records: readonly NewSpend[]): NewSpend[] {
  const folded = new Map<string, NewSpend & { micros: number }>();
  const kept: NewSpend[] = [];
  for (const r of records) {
    if (r.cost_usd === null) {
      kept.push(r);
      continue;
    }
    const key = JSON.stringify([r.token, r.agent, r.phase, r.model, r.source, r.created_at.slice(0, 10)]);
    const f = folded.get(key);
    if (f === undefined) {
      folded.set(key, { ...r, micros: toMicros(r.cost_usd) });
      continue;
    }
    f.tokens_in += r.tokens_in;
    f.tokens_out += r.tokens_out;
    f.cache_read_tokens += r.cache_read_tokens;
    f.cache_write_tokens += r.cache_write_tokens;
    f.micros += toMicros(r.cost_usd);
    if (r.created_at > f.created_at) f.created_at = r.created_at;
  }
  const sums = [...folded.values()].map(({ micros, ...r }) => ({ ...r, cost_usd: toUsd(micros) }));
  return [...sums, ...kept].sort((a, b) => a.created_at.localeCompare(b.created_at));
}
