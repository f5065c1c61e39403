// One PostgreSQL benchmark process: claim+complete cycles through workledger
// (claim --next, update --status done) or fetch+complete through pg-boss on the
// same database (the baseline). Starts when every worker is ready (together.ts).
//
// The shape-* modes run no product code: bare pg sends trivial statements in
// the pattern each product's cycle has on the wire, to measure what the pattern
// alone costs the client (docs/PERFORMANCE.md, "32 workers").
import { openLedger } from "../dist/index.js";
import { claimAndComplete, readyThenGo, timed } from "./worker.mjs";

const [mode, url, schema, queue, agent, count] = process.argv.slice(2);
const n = Number(count);
let result;
if (mode === "workledger") {
  const ledger = await openLedger({ databaseUrl: url, schema });
  await ledger.list({ project: queue, limit: 1 });
  await readyThenGo();
  result = await claimAndComplete(ledger, queue, agent, n);
  await ledger.close();
} else if (mode === "pgboss") {
  const { default: PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false, migrate: false, max: 2 });
  boss.on("error", () => undefined);
  await boss.start();
  await readyThenGo();
  result = await timed(n, async () => {
    const [job] = await boss.fetch(queue);
    if (!job) return false;
    await boss.complete(queue, job.id);
    return true;
  });
  await boss.stop({ graceful: false, close: true });
} else {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 2, pipeline: true });
  (await pool.connect()).release();
  // Per operation (two per cycle), both one statement: workledger's answers the work order's row as JSON
  // (about 1.5 KB, as its one-statement claim and done do: sql/compile.ts), pg-boss's a few columns.
  const statement =
    mode === "shape-workledger"
      ? (i) => ({ name: "wl", text: "SELECT $1::int AS one, json_build_object('wo', repeat('x', 1500)) AS after", values: [i] })
      : (i) => ({ name: "pb", text: "SELECT $1::int AS one", values: [i] });
  const operation = (client, i) => client.query(statement(i));
  await readyThenGo();
  result = await timed(n, async (i) => {
    for (let op = 0; op < 2; op++) {
      const client = await pool.connect();
      await operation(client, i);
      client.release();
    }
    return true;
  });
  await pool.end();
}
process.stdout.write(JSON.stringify(result));
