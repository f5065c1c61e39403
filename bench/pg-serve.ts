/**
 * `serve` on a PostgreSQL schema in a process of its own, as it runs in
 * production (the CLI has no option to pick a schema, which the benchmark
 * needs to stay apart from real data). Prints its URL, then serves until killed.
 */
import { startServer } from "../src/doors/http/server.ts";
import { openLedger } from "../src/index.ts";

const [url, schema] = process.argv.slice(2) as [string, string];
const ledger = await openLedger({ databaseUrl: url, schema });
const server = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "bench", rateLimit: { perSecond: 1e9, burst: 1e9 }, readLimit: { perSecond: 1e9, burst: 1e9 } });
process.stdout.write(`${server.url}\n`);
process.once("SIGTERM", () => void server.close().then(() => ledger.close()));
