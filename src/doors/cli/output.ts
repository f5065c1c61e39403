/** Terminal output: colour only on a TTY (NO_COLOR respected), relative times, aligned columns. */
import { formatDuration } from "../../core/duration.js";

const useColor = () => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
const paint = (code: number) => (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const c = { bold: paint(1), dim: paint(2), red: paint(31), green: paint(32), yellow: paint(33), blue: paint(34), cyan: paint(36) };

/** "in 12m" / "5m ago", relative to now. */
export function relative(iso: string, now = Date.now()): string {
  const ms = Date.parse(iso) - now;
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(ms)} ago`;
}

const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "").length;

/** Aligns rows of cells into columns; the last column is left ragged. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visible(cell))))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * Stored text made safe to print: controls other than newline and tab, and
 * bidi overrides, shown as \u{…} instead of acting on the terminal. New input
 * cannot hold them (the schemas refuse them), but a ledger may predate that.
 */
export const shown = (s: string) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`);

/** Keeps one-line cells one line. */
export const oneLine = (s: string, max = 80) => {
  const t = shown(s.replace(/\s+/g, " ").trim());
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
};
