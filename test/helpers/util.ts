/** Small things every kind of test needs. */
import { fileURLToPath } from "node:url";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, checking every 100 ms; false when `ms` passed first (a loaded machine is slow, not wrong). */
export async function until(ok: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (ok()) return true;
  return ok();
}

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
