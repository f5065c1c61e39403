/** Small things every kind of test needs. */
import { fileURLToPath } from "node:url";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The path of a file in test/fixtures. */
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/**
 * Tests that cannot run here are skipped with a banner nobody can miss, or,
 * under CI=true, where they are required, fail the run. Returns false (run nothing).
 */
export function skipLoudly(tests: string, why: string, fix: string[]): false {
  if (process.env.CI === "true") throw new Error(`the ${tests} must run under CI=true, but ${why}`);
  const bar = "!".repeat(78);
  process.stderr.write(
    ["", bar, `!! WARNING: the ${tests} were SKIPPED: ${why}.`, ...fix.map((l) => `!! ${l}`), "!! With CI=true this fails the run instead of skipping.", bar, "", ""].join("\n"),
  );
  return false;
}
