/**
 * A capacity figure users can plan with (issue 27): how many paced agents one
 * or two `serve` processes on PostgreSQL (and one on SQLite) carry before any
 * operation's p99 latency passes 100 ms. Each agent claims the next WO with a
 * 3 s TTL, adds a note, renews (a third of the way), finishes, and thinks
 * between calls (capacity-agents.mjs, in a process of its own). The number of
 * agents doubles until a step misses; the last step that kept every p99 under
 * 100 ms is the figure, with its p50/p99 per operation and the CPU `serve`
 * and PostgreSQL spent per operation. Beside it, the same run's baseline: a
 * minimal node:http endpoint answering each request with one trivial
 * PostgreSQL query, i.e. what HTTP plus one database round trip allow here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openLedger } from "../src/index.ts";
import { dropSchema, schemaUrl, uniqueSchema } from "../test/conformance/backends.ts";
import { serverCpuMs } from "./postgres.ts";
import { progress } from "./progress.ts";
import type { Row } from "./run.ts";
import { spawnServe } from "./serve-memory.ts";
import { quantile } from "./stats.ts";

const AGENTS = fileURLToPath(new URL("./capacity-agents.mjs", import.meta.url));
const OPS = ["claim", "note", "renew", "done"] as const;
type Op = (typeof OPS)[number];
const P99_LIMIT_MS = 100;
const THINK_MS = 100;

interface Step {
  agents: number;
  ms: Record<Op, number[]>;
  ops: number;
  serveCpuPerOp: number;
  pgCpuPerOp: number;
  errors: number;
}

/** CPU time (ms) a process has used so far (its /proc ticks, 1/100 s). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function runAgents(urls: string[], tokens: string[], project: string, seconds: number): Promise<{ ms: Record<Op, number[]>; errorCount: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AGENTS, JSON.stringify({ urls, tokens, project, seconds, thinkMs: THINK_MS })], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as { ms: Record<Op, number[]>; errorCount: number }) : reject(new Error(`capacity agents exited with ${code}`)),
    );
  });
}

/** Doubles the agents until a step's p99 of some operation passes the limit; every step measured. */
async function climb(servers: ChildProcess[], urls: string[], tokens: string[], project: string, counts: number[], seconds: number, pgCpu: boolean): Promise<Step[]> {
  const steps: Step[] = [];
  // Untimed first: the servers' first requests compile what every later one runs.
  await runAgents(urls, tokens.slice(0, counts[0]), project, Math.min(2, seconds));
  for (const agents of counts) {
    progress(`    ${agents} agents for ${seconds}s`);
    const serve0 = servers.reduce((t, s) => t + cpuMs(s.pid!), 0);
    const pg0 = pgCpu ? serverCpuMs() : NaN;
    const { ms, errorCount } = await runAgents(urls, tokens.slice(0, agents), project, seconds);
    const ops = OPS.reduce((n, op) => n + ms[op].length, 0);
    const serveCpu = servers.reduce((t, s) => t + cpuMs(s.pid!), 0) - serve0;
    steps.push({ agents, ms, ops, serveCpuPerOp: serveCpu / ops, pgCpuPerOp: pgCpu ? (serverCpuMs() - pg0) / ops : NaN, errors: errorCount });
    if (OPS.some((op) => quantile(ms[op], 0.99) >= P99_LIMIT_MS)) break;
  }
  return steps;
}

function rows(config: string, steps: Step[], baseline: number, seconds: number): Row[] {
  const ok = steps.filter((s) => OPS.every((op) => quantile(s.ms[op], 0.99) < P99_LIMIT_MS));
  const best = ok.at(-1) ?? steps[0]!;
  const info = { target: "—", pass: null };
  const out: Row[] = [
    {
      ...info,
      figure: `capacity, ${config}: agents at every p99 < ${P99_LIMIT_MS} ms${ok.length === steps.length ? " (the most tried)" : ""}`,
      value: ok.length ? best.agents : 0,
      unit: "agents",
      baseline: "their ops/s against a minimal endpoint's (node:http + SELECT 1) req/s",
      baselineValue: baseline,
      ratio: best.ops / seconds / baseline,
    },
  ];
  for (const op of OPS)
    out.push({
      ...info,
      figure: `  ${op} p50 / p99 at ${best.agents} agents`,
      value: quantile(best.ms[op], 0.5),
      unit: "ms",
      baseline: "p99",
      baselineValue: quantile(best.ms[op], 0.99),
      ratio: NaN,
    });
  // CPU time comes in ticks of 10 ms: a short step may show none.
  if (best.serveCpuPerOp > 0)
    out.push({
      ...info,
      figure: `  serve CPU per operation at ${best.agents} agents`,
      value: best.serveCpuPerOp,
      unit: "ms",
      baseline: "PostgreSQL's",
      baselineValue: best.pgCpuPerOp,
      ratio: NaN,
    });
  if (best.errors)
    out.push({ ...info, figure: `  errors at ${best.agents} agents (other than nothing to claim)`, value: best.errors, unit: "", baseline: "", baselineValue: 0, ratio: NaN });
  return out;
}

/** Requests per second of the baseline endpoint under `clients` closed-loop keep-alive clients for `seconds`. */
async function baselineEndpoint(url: string, clients: number, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const server = http.createServer((_req, res) => {
    pool.query("SELECT 1 AS one").then(
      (r) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(r.rows[0])),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const agent = new http.Agent({ keepAlive: true });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: "/", agent }, (res) => {
          res.resume();
          res.once("end", resolve);
        })
        .once("error", reject);
    });
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (Date.now() < until) {
        await get();
        done++;
      }
    }),
  );
  agent.destroy();
  await new Promise((r) => server.close(r));
  await pool.end();
  return done / seconds;
}

async function seed(ledger: Awaited<ReturnType<typeof openLedger>>, project: string, count: number, agents: number): Promise<string[]> {
  for (let i = 0; i < count; i += 1000)
    await ledger.create({ project, agent: "bench", new_project: true, items: Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ title: `t${i + j}` })) });
  return Promise.all(Array.from({ length: agents }, async (_, i) => (await ledger.tokens.create({ agent: `cap${i}`, role: "agent" }, "admin")).token));
}

export async function capacity(pgUrl: string | undefined, quick: boolean): Promise<Row[]> {
  const counts = quick ? [2, 4] : [8, 16, 32, 64, 128, 256];
  const seconds = quick ? 1 : 10;
  // Enough WOs that no step runs dry: about 2.5 cycles per agent and second.
  const wos = quick ? 200 : Math.ceil(counts.reduce((n, a) => n + a * 3 * seconds, 0) / 1000) * 1000;
  const most = counts.at(-1)!;
  const out: Row[] = [];
  progress("  capacity: the baseline endpoint");
  const baseline = pgUrl ? await baselineEndpoint(pgUrl, 32, quick ? 1 : 5) : NaN;
  if (pgUrl) {
    for (const servers of [1, 2]) {
      const schema = uniqueSchema("wl_cap");
      const ledger = await openLedger({ databaseUrl: pgUrl, schema });
      const procs: ChildProcess[] = [];
      try {
        const tokens = await seed(ledger, "cap", wos, most);
        const env = { ...process.env, WORKLEDGER_DATABASE_URL: schemaUrl(schema) };
        const started = await Promise.all(Array.from({ length: servers }, () => spawnServe(env)));
        procs.push(...started.map((s) => s.child));
        progress(`  capacity: PostgreSQL, ${servers} serve process${servers > 1 ? "es" : ""}`);
        const steps = await climb(
          procs,
          started.map((s) => s.url),
          tokens,
          "cap",
          counts,
          seconds,
          true,
        );
        out.push(...rows(`PostgreSQL, ${servers} serve${servers > 1 ? "s" : ""}`, steps, baseline, seconds));
      } finally {
        procs.forEach((p) => p.kill("SIGTERM"));
        await ledger.close();
        await dropSchema(schema);
      }
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "workledger-cap-"));
  let proc: ChildProcess | undefined;
  try {
    const db = join(dir, "ledger.db");
    const ledger = await openLedger({ db });
    const tokens = await seed(ledger, "cap", wos, most);
    await ledger.close();
    const { child, url } = await spawnServe({ ...process.env, WORKLEDGER_DB: db });
    proc = child;
    progress("  capacity: SQLite, 1 serve process");
    out.push(...rows("SQLite, 1 serve", await climb([child], [url], tokens, "cap", counts, seconds, false), baseline, seconds));
  } finally {
    proc?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
