/** File patterns for the overlap tests, and a watch on what overlap checks spend. */
import { OverlapChecker } from "../../src/core/files.ts";

/** Patterns an attacker holding an agent token stored (before the save-time limits) to stall every reader. */
export const alternatives = (n: number) => `{${Array.from({ length: n }, (_, i) => `a${i}`).join(",")}}`;
export const HOSTILE_PATTERNS = {
  // 4 groups of 60: 13 million expansions when compared with a plain file name (used to take minutes and GBs).
  braces: `src/${alternatives(60).repeat(4)}`.slice(0, 1000),
  // 333 segments of **: a quadratic table per pair, for every pair of patterns.
  stars: "**/a/".repeat(200).slice(0, 1000),
};

/**
 * The most any overlap checker spent since the last `reset()`, read after
 * each comparison (by wrapping OverlapChecker.files, for the whole process).
 */
export function watchSpending(): { max(): number; reset(): void } {
  let most = 0;
  const files = OverlapChecker.prototype.files;
  OverlapChecker.prototype.files = function (this: OverlapChecker, a, b) {
    const r = files.call(this, a, b);
    most = Math.max(most, this.spent);
    return r;
  };
  return { max: () => most, reset: () => (most = 0) };
}
