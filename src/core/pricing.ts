/**
 * What tokens cost: a small built-in table of USD per million tokens by model
 * name prefix (the longest matching prefix wins, so `claude-sonnet-4-5-2025…`
 * finds `claude-sonnet-4`), which a project can extend or override
 * (`project set --prices`). A model without a price records its tokens and an
 * unknown cost; nothing is guessed. Prices as published by the vendors in
 * 2026; README "Spend and budgets" lists them.
 */
import type { ModelPrice, PriceTable } from "./types.js";

export const BUILT_IN_PRICES: Readonly<PriceTable> = {
  "claude-opus-4-5": { input: 5, output: 25, cache_write: 6.25, cache_read: 0.5 },
  "claude-opus-4": { input: 15, output: 75, cache_write: 18.75, cache_read: 1.5 },
  "claude-sonnet-4": { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
  "claude-3-7-sonnet": { input: 3, output: 15, cache_write: 3.75, cache_read: 0.3 },
  "claude-haiku-4": { input: 1, output: 5, cache_write: 1.25, cache_read: 0.1 },
  "claude-3-5-haiku": { input: 0.8, output: 4, cache_write: 1, cache_read: 0.08 },
  "gpt-5": { input: 1.25, output: 10, cache_read: 0.125 },
  "gpt-5-mini": { input: 0.25, output: 2, cache_read: 0.025 },
  "gpt-4.1": { input: 2, output: 8, cache_read: 0.5 },
};

/** The price of `model`: the project's table first, then the built-in one; longest prefix wins within each. */
export function priceOf(model: string | null, project: PriceTable | null): ModelPrice | null {
  if (model === null) return null;
  const m = model.toLowerCase();
  for (const table of [project ?? {}, BUILT_IN_PRICES]) {
    const key = Object.keys(table)
      .filter((k) => m.startsWith(k.toLowerCase()))
      .sort((a, b) => b.length - a.length)[0];
    if (key !== undefined) return table[key] ?? null;
  }
  return null;
}

export interface Usage {
  /** All input tokens, cache reads and writes included. */
  tokens_in: number;
  tokens_out: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

/** Cost in USD (rounded to micro-dollars), or null without a price. */
export function costOf(u: Usage, price: ModelPrice | null): number | null {
  if (price === null) return null;
  const plain = Math.max(0, u.tokens_in - u.cache_read_tokens - u.cache_write_tokens);
  const micros =
    plain * price.input + u.tokens_out * price.output + u.cache_write_tokens * (price.cache_write ?? price.input) + u.cache_read_tokens * (price.cache_read ?? price.input);
  return toUsd(Math.round(micros));
}

/** `$0.3400` under a dollar, `$12.50` above, `?` when unknown: how every door shows money. */
export const formatUsd = (usd: number | null): string => (usd === null ? "?" : `$${usd.toFixed(usd !== 0 && usd < 1 ? 4 : 2)}`);
/** `950`, `12.3k`, `4500k`: how every door shows token counts. */
export const formatTokens = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(n >= 1e6 ? 0 : 1)}k` : String(n));

/** Money is summed in whole micro-dollars, so totals are exact (0.1 + 0.2 is 0.3). */
export const toMicros = (usd: number) => Math.round(usd * 1e6);
export const toUsd = (micros: number) => micros / 1e6;
