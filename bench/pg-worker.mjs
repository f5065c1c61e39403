// One PostgreSQL benchmark process: claim+complete cycles through workledger
// (claim --next, update --status done) or fetch+complete through pg-boss on the
// same database (the baseline). Starts when every worker is ready (together.ts).
import { openLedger } from "../dist/index.js";
import { readyThenGo } from "./ready.mjs";

const [mode, url, schema, queue, agent, count] = process.argv.slice(2);
const n = Number(count);
let done = 0;
let t0;
if (mode === "workledger") {
  const ledger = await openLedger({ databaseUrl: url, schema });
  await ledger.list({ project: queue, limit: 1 });
  await readyThenGo();
  t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let wo;
    try {
      wo = await ledger.claim({ project: queue, agent, next: true, ttl: "5m" });
    } catch (e) {
      if (e.code === "NOTHING_TO_CLAIM") break;
      throw e;
    }
    await ledger.update({ project: queue, agent, id: wo.id, status: "done", lease_token: wo.lease.token });
    done++;
  }
  const ms = performance.now() - t0;
  await ledger.close();
  process.stdout.write(JSON.stringify({ done, ms }));
} else {
  const { default: PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false, migrate: false, max: 2 });
  boss.on("error", () => undefined);
  await boss.start();
  await readyThenGo();
  t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const [job] = await boss.fetch(queue);
    if (!job) break;
    await boss.complete(queue, job.id);
    done++;
  }
  const ms = performance.now() - t0;
  await boss.stop({ graceful: false, close: true });
  process.stdout.write(JSON.stringify({ done, ms }));
}
