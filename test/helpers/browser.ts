/** Debian's Chromium driven by playwright-core; a missing browser skips loudly, and fails under CI=true. */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { skipLoudly } from "./util.ts";

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
    skipLoudly(`${suite} browser tests`, `no Chromium at ${CHROMIUM}`, ["Install it with: apt-get install -y chromium (or set WORKLEDGER_CHROMIUM)."]);
    return null;
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
