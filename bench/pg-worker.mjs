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
  /** Statements issued together leave in one socket write, as PgTx.batch sends them. */
  const together = (client, queries) => {
    const stream = client.connection.stream;
    stream.cork();
    const answers = queries.map((q) => client.query(q));
    process.nextTick(() => stream.uncork());
    return Promise.all(answers);
  };
  const select = (name, i) => ({ name, text: `SELECT $1::int AS ${name}`, values: [i] });
  // Per operation (two per cycle): workledger's [BEGIN+clock, read] then [write, COMMIT]; pg-boss's one statement.
  const operation =
    mode === "shape-workledger"
      ? async (client, i) => {
          await together(client, ["BEGIN; SELECT now()", select("read", i)]);
          await together(client, [select("write", i), "COMMIT"]);
        }
      : (client, i) => client.query(select("one", i));
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
