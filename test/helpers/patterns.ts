/** File patterns for the overlap tests. */

/** Patterns an attacker holding an agent token stored (before the save-time limits) to stall every reader. */
export const alternatives = (n: number) => `{${Array.from({ length: n }, (_, i) => `a${i}`).join(",")}}`;
export const HOSTILE_PATTERNS = {
  // 4 groups of 60: 13 million expansions when compared with a plain file name (used to take minutes and GBs).
  braces: `src/${alternatives(60).repeat(4)}`.slice(0, 1000),
  // 333 segments of **: a quadratic table per pair, for every pair of patterns.
  stars: "**/a/".repeat(200).slice(0, 1000),
};
