/**
 * find-unclaimed and list --status open latency (p50 of 20 in-process calls)
 * as a ledger grows through `sizes`, in two projects of that size: one where
 * every WO is open (the worst case for the queue) and one where all but the
 * newest 100 are done (what a ledger in use looks like, and the worst case
 * for a listing that scans in id order).
 */
import { progress } from "./progress.ts";
import type { Ledger } from "../src/core/ledger.ts";
import type { Row } from "./run.ts";
import { quantile } from "./stats.ts";

export const SHAPES = { open: "all open", done: "all but 100 done" } as const;
export type Shape = keyof typeof SHAPES;

async function measure(fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return quantile(ms, 0.5);
}

/** `growTo(size)` brings both projects (named after their shape) to `size` WOs. */
export async function queueLatency(store: string, sizes: number[], ledger: Ledger, growTo: (size: number) => Promise<void>): Promise<Row[]> {
  const rows: Row[] = [];
  const first = new Map<string, { ms: number; size: number }>();
  for (const size of sizes) {
    progress(`  queue latency (${store}): growing to ${size.toLocaleString("en")} WOs`);
    await growTo(size);
    for (const shape of Object.keys(SHAPES) as Shape[]) {
      for (const [figure, fn] of [
        ["find-unclaimed", () => ledger.findUnclaimed({ project: shape })],
        ["list --status open", () => ledger.list({ project: shape, status: "open" })],
      ] as const) {
        const ms = await measure(fn);
        const key = `${figure} ${shape}`;
        if (!first.has(key)) first.set(key, { ms, size });
        const base = first.get(key)!;
        const growth = ms / base.ms / (size / base.size);
        rows.push({
          figure: `${figure} at ${size.toLocaleString("en")} WOs (${store}, ${SHAPES[shape]})`,
          value: ms,
          unit: "ms",
          baseline: `growth vs ${base.size.toLocaleString("en")} (1.0 = linear)`,
          baselineValue: base.ms,
          ratio: growth,
          target: "< 50 ms, sub-linear",
          pass: ms < 50 && (size === base.size || growth < 1),
        });
      }
    }
  }
  return rows;
}
