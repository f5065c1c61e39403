/**
 * The back ends the behavioural suite runs against. Each gets a fresh,
 * isolated ledger and a clock the test moves by hand.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ledger } from "../../src/core/ledger.ts";
import { openLedger } from "../../src/index.ts";

export interface Clock {
  now: number;
  advance(ms: number): void;
}

export interface Backend {
  name: string;
  open(clock: Clock): Promise<{ ledger: Ledger; cleanup(): Promise<void> }>;
}

export const backends: Backend[] = [
  {
    name: "sqlite",
    async open(clock) {
      const dir = mkdtempSync(join(tmpdir(), "workledger-conf-"));
      const ledger = openLedger({ db: join(dir, "ledger.db"), clock: () => clock.now });
      return {
        ledger,
        async cleanup() {
          await ledger.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

export function clock(start = Date.parse("2026-01-01T00:00:00.000Z")): Clock {
  return {
    now: start,
    advance(ms) {
      this.now += ms;
    },
  };
}
