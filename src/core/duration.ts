/**
 * Durations as agents type them: `90s`, `30m`, `2h`, `1d`. The unit is
 * required: a bare `30` was once read as seconds where the agent meant
 * minutes, so it is refused with a suggestion instead (unitless).
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(text);
  if (!m) return null;
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] as string).toLowerCase() as keyof typeof UNIT_MS]);
}

/**
 * For a number given without a unit, the readings to offer (30 → "30s or
 * 30m"; only those within [minMs, maxMs] when given), else null: which one
 * was meant is the caller's to say.
 */
export function unitless(v: unknown, minMs = 0, maxMs = Infinity): string | null {
  const s = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : "";
  if (!/^\d+(\.\d+)?$/.test(s)) return null;
  const fits = (["s", "m", "h"] as const).filter((u) => {
    const ms = Number(s) * UNIT_MS[u];
    return ms >= minMs && ms <= maxMs;
  });
  const offer = (fits.length ? fits : (["s", "m"] as const)).slice(0, 2).map((u) => `${s}${u}`);
  return offer.join(" or ");
}

/** Compact human form: 45s, 12m, 3h, 2d. */
export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.round(h / 24)}d`;
}
