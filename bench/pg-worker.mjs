// One PostgreSQL benchmark process: claim+complete cycles through workledger
// (claim --next, update --status done) or fetch+complete through pg-boss on the
// same database (the baseline). Starts when every worker is ready (together.ts).
import { openLedger } from "../dist/index.js";
import { claimAndComplete, readyThenGo } from "./worker.mjs";

const [mode, url, schema, queue, agent, count] = process.argv.slice(2);
const n = Number(count);
if (mode === "workledger") {
  const ledger = await openLedger({ databaseUrl: url, schema });
  await ledger.list({ project: queue, limit: 1 });
  await readyThenGo();
  const result = await claimAndComplete(ledger, queue, agent, n);
  await ledger.close();
  process.stdout.write(JSON.stringify(result));
} else {
  const { default: PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false, migrate: false, max: 2 });
  boss.on("error", () => undefined);
  await boss.start();
  await readyThenGo();
  let done = 0;
  const t0 = performance.now();
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
