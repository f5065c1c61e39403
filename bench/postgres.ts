/**
 * PostgreSQL throughput: workledger claim+complete with N worker processes,
 * against pg-boss fetch+complete and a pgbench single-row UPDATE at the same
 * client count, all on the same local database in the same run.
 */
import { progress } from "./progress.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { openLedger } from "../src/index.ts";
import type { Row } from "./run.ts";
import { queueLatency, SHAPES } from "./queue-latency.ts";
import { runTogether } from "./together.ts";

const WORKER = fileURLToPath(new URL("./pg-worker.mjs", import.meta.url));

type Mode = "workledger" | "pgboss" | "shape-workledger" | "shape-pgboss";

/**
 * CPU time (ms) used so far by every process named postgres that this user
 * can see in /proc, i.e. a local server, with the backends that have exited
 * (their time is in the postmaster's children's time); NaN where there is
 * none. Ticks are taken as 1/100 s (USER_HZ on Linux).
 */
export function serverCpuMs(): number {
  let ticks = 0;
  let seen = false;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (!stat.includes("(postgres)")) continue;
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]); // utime, stime, cutime, cstime
        seen = true;
      } catch {
        // the process ended while we looked
      }
    }
  } catch {
    return NaN;
  }
  return seen ? ticks * 10 : NaN;
}

/** Cycles per second over the slowest worker's time; the workers' and the server's CPU time per cycle. */
async function processes(mode: Mode, url: string, schema: string, queue: string, workers: number, perWorker: number): Promise<{ rate: number; cpuMs: number; serverMs: number }> {
  const server0 = serverCpuMs();
  const rs = await runTogether(
    WORKER,
    Array.from({ length: workers }, (_, i) => [mode, url, schema, queue, `w${i}`, String(perWorker)]),
  );
  await new Promise((r) => setTimeout(r, 300)); // the workers' backends end after them, and the postmaster reaps them
  const server = serverCpuMs() - server0;
  const done = rs.reduce((a, r) => a + r.done, 0);
  return { rate: done / (Math.max(...rs.map((r) => r.ms)) / 1000), cpuMs: rs.reduce((a, r) => a + r.cpuMs, 0) / done, serverMs: server / done };
}

/** pgbench: transactions per second of one single-row UPDATE, `clients` connections, `seconds` long. */
function pgbench(url: string, schema: string, clients: number, seconds: number): number {
  const u = new URL(url);
  const script = `\\set id random(1, 10000)\nUPDATE ${schema}.bench_rows SET v = v + 1 WHERE id = :id;\n`;
  const file = join(mkdtempSync(join(tmpdir(), "workledger-pgbench-")), "update.sql");
  writeFileSync(file, script);
  const r = spawnSync(
    "pgbench",
    [
      "-n",
      "-c",
      String(clients),
      "-j",
      String(Math.min(clients, 4)),
      "-T",
      String(seconds),
      "-f",
      file,
      "-h",
      u.hostname,
      "-p",
      u.port || "5432",
      "-U",
      u.username || "postgres",
      u.pathname.slice(1),
    ],
    { encoding: "utf8" },
  );
  rmSync(dirname(file), { recursive: true, force: true });
  const tps = /tps = ([\d.]+)/.exec(r.stdout)?.[1];
  if (!tps) throw new Error(`pgbench failed: ${r.stderr || r.stdout}`);
  return Number(tps);
}

/** One measurement: `workers` processes, each finishing up to `perWorker` WOs (and jobs) from a shared backlog. */
export interface ThroughputRun {
  workers: number;
  perWorker: number;
  /** Also run pgbench at this client count. */
  pgbench: boolean;
  /** Name the backlog in the figure (when several runs share a worker count). */
  label?: string;
  /**
   * Also report the workers' CPU time per cycle, and what bare pg costs the
   * client sending trivial statements in each product's wire pattern.
   */
  cpu?: boolean;
}

/**
 * Before each timed phase: vacuum and checkpoint, so no phase pays for the
 * dead rows or dirty pages the one before left (needs a superuser or
 * pg_checkpoint for CHECKPOINT; without, the phases run unsettled).
 */
async function settle(admin: pg.Client): Promise<void> {
  await admin.query("VACUUM ANALYZE");
  await admin.query("CHECKPOINT").catch(() => undefined);
}

export async function postgresThroughput(url: string, runs: ThroughputRun[], pgbenchSeconds: number): Promise<Row[]> {
  const schema = `wl_bench_pg_${process.pid}`;
  const bossSchema = `${schema}_boss`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const rows: Row[] = [];
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.bench_rows (id int PRIMARY KEY, v bigint NOT NULL DEFAULT 0)`);
    await admin.query(`INSERT INTO ${schema}.bench_rows (id) SELECT generate_series(1, 10000)`);
    const ledger = await openLedger({ databaseUrl: url, schema });
    const { default: PgBoss } = await import("pg-boss");
    const boss = new PgBoss({ connectionString: url, schema: bossSchema, supervise: false, schedule: false });
    boss.on("error", () => undefined);
    await boss.start();
    for (const [n, { workers: c, perWorker, pgbench: alsoPgbench, label, cpu }] of runs.entries()) {
      const total = c * perWorker;
      const queue = `q${n}`;
      for (let i = 0; i < total; i += 1000)
        await ledger.create({ project: queue, agent: "bench", items: Array.from({ length: Math.min(1000, total - i) }, (_, j) => ({ title: `t${i + j}` })) });
      await boss.createQueue(queue);
      for (let i = 0; i < total; i += 1000) await boss.insert(Array.from({ length: Math.min(1000, total - i) }, () => ({ name: queue, data: {} })));
      const what = `${c} worker${c > 1 ? "s" : ""}, ${total.toLocaleString("en")} WOs`;
      await settle(admin);
      progress(`  PostgreSQL claim+complete, ${what}: workledger`);
      const { rate: wl, cpuMs: wlCpu, serverMs: wlServer } = await processes("workledger", url, schema, queue, c, perWorker);
      await settle(admin);
      progress(`  PostgreSQL claim+complete, ${what}: pg-boss`);
      const { rate: pb, cpuMs: pbCpu, serverMs: pbServer } = await processes("pgboss", url, bossSchema, queue, c, perWorker);
      rows.push({
        figure: `PostgreSQL claim+complete, ${c} worker${c > 1 ? "s" : ""}${label ? `, ${label}` : ""}`,
        value: wl,
        unit: "cycles/s",
        baseline: "pg-boss@10 fetch+complete",
        baselineValue: pb,
        ratio: wl / pb,
        target: "≥ 1.0×",
        pass: wl / pb >= 1,
      });
      if (alsoPgbench) {
        await settle(admin);
        progress(`  pgbench, ${c} clients, ${pgbenchSeconds}s`);
        const bench = pgbench(url, schema, c, pgbenchSeconds);
        rows.push({
          figure: `  same, against pgbench`,
          value: wl,
          unit: "cycles/s",
          baseline: "pgbench 1-row UPDATE tps",
          baselineValue: bench,
          ratio: wl / bench,
          target: "≥ 0.5×",
          pass: wl / bench >= 0.5,
        });
      }
      if (cpu) {
        const info = { unit: "ms", target: "—", pass: null };
        rows.push({ ...info, figure: "  same, workers' CPU per cycle", value: wlCpu, baseline: "pg-boss", baselineValue: pbCpu, ratio: wlCpu / pbCpu });
        // Only for a local server (its processes in /proc) and a run long enough for its clock ticks.
        if (wlServer > 0 && pbServer > 0)
          rows.push({ ...info, figure: "  same, PostgreSQL's CPU per cycle", value: wlServer, baseline: "pg-boss", baselineValue: pbServer, ratio: wlServer / pbServer });
        progress(`  bare pg in each product's wire pattern, ${what}`);
        const shapeWl = (await processes("shape-workledger", url, schema, queue, c, perWorker)).cpuMs;
        const shapePb = (await processes("shape-pgboss", url, schema, queue, c, perWorker)).cpuMs;
        rows.push({
          ...info,
          figure: "  bare pg, one statement per operation answering a WO-sized row (workledger's), CPU per cycle",
          value: shapeWl,
          baseline: "in pg-boss's pattern",
          baselineValue: shapePb,
          ratio: shapeWl / shapePb,
        });
      }
    }
    await boss.stop({ graceful: false, close: true });
    await ledger.close();
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`);
    await admin.end();
  }
  return rows;
}

/**
 * Queue latency on PostgreSQL as one project grows through `sizes`. Seeded
 * with INSERT … SELECT generate_series (the rows create writes, without their
 * events), because a million creates would take most of an hour here.
 */
export async function postgresScale(url: string, sizes: number[]): Promise<Row[]> {
  const schema = `wl_bench_scale_${process.pid}`;
  const ledger = await openLedger({ databaseUrl: url, schema });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`SET search_path = ${pg.escapeIdentifier(schema)}`);
    const projects = Object.keys(SHAPES);
    await admin.query("INSERT INTO projects (name, created_at) SELECT unnest($1::text[]), now()", [projects]);
    let have = 0;
    return await queueLatency("PostgreSQL", sizes, ledger, async (size) => {
      await admin.query(
        `INSERT INTO work_orders (project, id, title, description, repo, acceptance, scope, files, verification, priority, handover, labels, depends_on,
         status, revision, created_by, created_at, updated_at)
         SELECT p, g, 'task ' || g, '', '', '{}', '', '{}', '', (ARRAY['P0', 'P1', 'P2', 'P3'])[1 + g % 4], '', '{}', '{}', 'open', 1, 'bench', now(), now()
         FROM unnest($3::text[]) p, generate_series($1::integer, $2::integer) g`,
        [have + 1, size, projects],
      );
      await admin.query("UPDATE work_orders SET status = 'done' WHERE project = 'done' AND status = 'open' AND id <= $1", [size - 100]);
      await admin.query("UPDATE projects SET next_id = $1", [size + 1]);
      await admin.query("VACUUM ANALYZE work_orders");
      have = size;
    });
  } finally {
    await ledger.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await admin.end();
  }
}
