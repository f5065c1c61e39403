/**
 * Issue 16's dead-letter under real processes: a WO capped at 2 attempts,
 * six claimants racing for it, and every winner SIGKILLed while it holds the
 * lease. After the second lease lapses the WO is blocked with the budget
 * reason, and no process ever claims it a third time. On SQLite and on
 * PostgreSQL (skipped loudly when unreachable, required under CI=true).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { Ledger } from "../../src/core/ledger.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { openLedger } from "../../src/index.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { sandbox } from "../helpers/cli.ts";
import { fixture } from "../helpers/util.ts";

const CLAIMANTS = 6;

interface Outcome {
  agent: string;
  won: boolean;
  token?: number;
  code?: string;
}

/** Runs the claimants, SIGKILLs each winner, and resolves with every outcome once all have exited. */
function race(where: string, schema: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  return Promise.all(
    Array.from({ length: CLAIMANTS }, (_, i) => {
      const child = spawn(process.execPath, [fixture("budget-claimant.mjs"), where, schema, `agent-${i}`, "1s"], { stdio: ["ignore", "pipe", "inherit"] });
      let buf = "";
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const o = JSON.parse(buf.slice(0, nl)) as Outcome;
          buf = buf.slice(nl + 1);
          outcomes.push(o);
          if (o.won) child.kill("SIGKILL"); // it dies holding the lease
        }
      });
      return new Promise<void>((resolve) => child.on("exit", () => resolve()));
    }),
  ).then(() => outcomes);
}

async function check(ledger: LedgerApi, outcomes: Outcome[]): Promise<void> {
  const wins = outcomes.filter((o) => o.won);
  assert.deepEqual(wins.map((w) => w.token).sort(), [1, 2], "exactly two attempts were ever granted");
  const losers = outcomes.filter((o) => !o.won);
  assert.equal(losers.length, CLAIMANTS - 2, "every process that never won stopped at the budget");
  assert.ok(losers.every((o) => o.code === "BUDGET_EXHAUSTED"));
  const wo = await ledger.get({ project: "budget", id: 1 });
  assert.deepEqual([wo.status, wo.dead_letter, wo.attempts, wo.lease], ["blocked", "2 of 2 attempts used", 2, null]);
  assert.match(wo.notes.at(-1)!.body, /budget exhausted \(2 of 2 attempts used\)/);
  const attempts = await ledger.attempts({ project: "budget", id: 1 });
  assert.deepEqual(
    attempts.map((a) => a.outcome),
    ["expired", "expired"],
  );
  const claims = (await ledger.history({ project: "budget", id: 1 })).filter((e) => e.type === "claimed");
  assert.equal(claims.length, 2);
}

describe("a WO capped at 2 attempts whose holders keep getting SIGKILLed (issue 16)", () => {
  it("on SQLite: blocked with the budget reason after the second expiry, never claimed a third time", async () => {
    const s = sandbox();
    after(() => s.cleanup());
    const ledger = await openLedger({ db: s.db });
    await ledger.create({ project: "budget", agent: "obs", items: [{ title: "flaky", max_attempts: 2 }] });
    await check(ledger, await race(s.db, ""));
    await ledger.close();
  });

  it("on PostgreSQL: the same", async (t) => {
    if (!(await requirePostgres("budget race"))) return t.skip("PostgreSQL is unreachable (see the warning above)");
    const schema = uniqueSchema("wl_budget");
    const ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 }));
    try {
      await ledger.create({ project: "budget", agent: "obs", items: [{ title: "flaky", max_attempts: 2 }] });
      await check(ledger, await race(PG_URL, schema));
    } finally {
      await ledger.close();
      await dropSchema(schema);
    }
  });
});
