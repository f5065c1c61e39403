/** Debian's Chromium driven by playwright-core; a missing browser skips loudly, and fails under CI=true. */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";

export const CHROMIUM = process.env.WORKLEDGER_CHROMIUM ?? "/usr/bin/chromium";
/** Screenshots land here (test artifacts, not committed). */
export const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

// Without the networking flags Chromium keeps dialing Google on this offline machine.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser(suite: string): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === "true") throw new Error(`Chromium is missing at ${CHROMIUM} and CI=true: the ${suite} tests must run (apt-get install -y chromium)`);
    const bar = "!".repeat(78);
    process.stderr.write(
      `\n${bar}\n!! WARNING: the ${suite} browser tests were SKIPPED: no Chromium at ${CHROMIUM}.\n` +
        "!! Install it with: apt-get install -y chromium (or set WORKLEDGER_CHROMIUM).\n" +
        `!! With CI=true a missing browser fails the run instead of skipping.\n${bar}\n\n`,
    );
    return null;
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
