/**
 * `npm run test:torture -- [--backend sqlite|postgres] [--duration 20s] [--seed N] [--workers 8] [--wos 200] [--faults standard|failover|none] [--failovers 5]`
 *
 * Many real agent processes work one ledger while faults are injected
 * (SIGKILLed agents; on SQLite the file held locked past the busy timeout; on
 * PostgreSQL a SIGKILLed and restarted `serve` and terminated backends; with
 * `--faults failover`, a pg_auto_failover formation of the run's own whose
 * primary is SIGKILLed again and again). Every operation goes to a history
 * file; then the pool is drained and the history and the ledger are checked
 * (check.ts). Exits 1 on any violation.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { parseDuration } from "../../src/core/duration.ts";
import type { Ledger } from "../../src/core/ledger.ts";
import { openLedger } from "../../src/index.ts";
import { PartitionNet } from "../helpers/partition-net.ts";
import { Formation } from "../helpers/pg-cluster.ts";
import { CLEAN } from "../helpers/relay.ts";
import { serve } from "../helpers/serve.ts";
import { check, type Op } from "./check.ts";
import { failoverWindows, latency, type FailoverRecord } from "./windows.ts";

const WORKER = fileURLToPath(new URL("./worker.mjs", import.meta.url));
const PG_URL = process.env.WORKLEDGER_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface TortureOptions {
  backend: "sqlite" | "postgres";
  durationMs: number;
  seed: number;
  workers: number;
  wos: number;
  /**
   * standard: the store's usual faults; failover: PostgreSQL primaries killed;
   * partition: servers and agents on test hosts of their own, links cut, delay
   * and loss (the last two postgres only); none.
   */
  faults: "standard" | "failover" | "partition" | "none";
  /** With faults "failover": how many, spread over the run. */
  failovers?: number;
  out?: string;
  log?: (line: string) => void;
}

export interface TortureReport {
  backend: string;
  seed: number;
  ops: number;
  byOutcome: Record<string, number>;
  faults: Record<string, number>;
  violations: string[];
  history: string | undefined;
  /** With faults "failover": each failover and how long no operation succeeded around it. */
  failovers?: FailoverRecord[];
  /** Successful operations' latency (ms), outside the failovers' windows. */
  latency?: { p50: number; p99: number; count: number };
}

export async function torture(o: TortureOptions): Promise<TortureReport> {
  const log = o.log ?? (() => undefined);
  let seed = o.seed >>> 0 || 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const project = "torture";
  const ops: Op[] = [];
  const faults: Record<string, number> = {};
  const fault = (k: string) => (faults[k] = (faults[k] ?? 0) + 1);
  const dir = mkdtempSync(join(tmpdir(), "workledger-torture-"));
  const schema = `wl_torture_${process.pid}_${Date.now()}`;
  const appName = `workledger-torture-${process.pid}`;
  const servers: { port: number; child: ChildProcess }[] = [];
  let ledger: Ledger | undefined;
  let formation: Formation | undefined;
  let network: PartitionNet | undefined;
  const kills: FailoverRecord[] = [];
  const children = new Set<ChildProcess>();
  const crashes: string[] = [];
  try {
    if (o.faults === "failover") {
      if (o.backend !== "postgres") throw new Error("--faults failover needs --backend postgres");
      formation = await Formation.start(log);
      log(`pg_auto_failover formation up: ${formation.url}`);
    }
    const baseUrl = formation?.url ?? PG_URL;
    // Our own name, so the fault below kills this run's servers' connections and no one else's (other test files share the database).
    const pgUrl = `${baseUrl}${baseUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}&application_name=${appName}`;
    ledger = o.backend === "sqlite" ? await openLedger({ db: join(dir, "ledger.db") }) : await openLedger({ databaseUrl: baseUrl, schema });
    for (let i = 0; i < o.wos; i += 100)
      await ledger.create({
        project,
        agent: "seed",
        items: Array.from({ length: Math.min(100, o.wos - i) }, (_, j) => ({ title: `task ${i + j}`, priority: (["P0", "P1", "P2", "P3"] as const)[(i + j) % 4] })),
      });

    const startServer = async (port: number) => {
      const s = await serve({ WORKLEDGER_DATABASE_URL: pgUrl }, [
        "--port",
        String(port),
        "--rate",
        "100000",
        "--burst",
        "100000",
        "--read-rate",
        "1000000000",
        "--read-burst",
        "1000000000",
      ]);
      // "close", not "exit": by then everything the server wrote to stderr has been read. Only the fault schedule and the run's end may stop a server.
      s.child.once("close", (c, signal) => {
        if (signal !== "SIGKILL" && signal !== "SIGTERM") crashes.push(`serve on port ${port} exited by itself (${c ?? signal}): ${s.stderr().slice(-2000)}`);
      });
      return { port: Number(new URL(s.url).port), child: s.child };
    };
    if (o.faults === "partition") {
      if (o.backend !== "postgres") throw new Error("--faults partition needs --backend postgres");
      await ledger.tokens.create({ agent: "observer", role: "agent" }, "admin"); // serve binds a test host's address, which needs tokens to exist
      const u = new URL(PG_URL);
      network = await PartitionNet.start({
        servers: 2,
        agentHosts: 2,
        pg: { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), database: u.pathname.slice(1), schema },
        dbParams: { query_timeout: "2000", connect_timeout: "2", application_name: appName },
      });
    } else if (o.backend === "postgres") servers.push(await startServer(0), await startServer(0));

    let made = 0;
    const target = async (i: number) => {
      if (o.backend === "sqlite") return join(dir, "ledger.db");
      const t = await ledger!.tokens.create({ agent: `agent-${made}`, role: "agent" }, "admin");
      const url = network ? network.agents[i % network.agents.length]!.url : `http://127.0.0.1:${servers[i % servers.length]!.port}`;
      return `${url}#${t.token}`;
    };
    const launch = async () => {
      const i = made++;
      const args = [WORKER, await target(i), project, `agent-${i}`, String(o.seed * 1000 + i)];
      const stdio: ["ignore", "pipe", "inherit"] = ["ignore", "pipe", "inherit"];
      const child = network ? network.spawnAgent(i % network.agents.length, process.execPath, args, { stdio }) : spawn(process.execPath, args, { stdio });
      children.add(child);
      let buf = "";
      child.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) if (l) ops.push(JSON.parse(l) as Op);
      });
      child.once("exit", () => children.delete(child));
      return child;
    };
    for (let i = 0; i < o.workers; i++) await launch();
    log(`${o.backend}: ${o.workers} agents on ${o.wos} WOs for ${o.durationMs / 1000}s, seed ${o.seed}, faults: ${o.faults}`);

    const started = Date.now();
    const until = started + o.durationMs;
    let networkFaults = 0;
    // Failovers at evenly spread times, each a little early or late.
    const failoverAt = Array.from({ length: o.faults === "failover" ? (o.failovers ?? 5) : 0 }, (_, k) => started + (o.durationMs * (k + 0.3 + rand() * 0.4)) / (o.failovers ?? 5));
    // A failover still due when the time is up (a slow machine spent it on an earlier one) still happens, within a minute more.
    while (Date.now() < until || (failoverAt.length > 0 && Date.now() < until + 60_000)) {
      await sleep(500 + rand() * 1000);
      if (o.faults === "none") continue;
      if (formation && failoverAt.length && Date.now() >= failoverAt[0]!) {
        failoverAt.shift();
        const f = await formation.failover();
        kills.push(f);
        log(`failover ${kills.length}: ${f.killed} SIGKILLed, new primary after ${f.promotedAfterMs} ms, pair healthy after ${Date.now() - f.at} ms`);
        fault("primary SIGKILL (failover)");
        continue;
      }
      const r = rand();
      if (r < (network ? 0.3 : 0.5)) {
        const victim = [...children][Math.floor(rand() * children.size)];
        if (victim) {
          victim.kill("SIGKILL");
          fault("agent SIGKILL");
          await launch();
        }
      } else if (o.backend === "sqlite" && r < 0.7) {
        // Hold the write lock past the agents' 2 s busy timeout: they must fail cleanly (exit 7), never corrupt.
        const holder = spawn(
          process.execPath,
          [
            "-e",
            `const D=require(${JSON.stringify(join(process.cwd(), "node_modules/better-sqlite3"))});` +
              `const d=new D(${JSON.stringify(join(dir, "ledger.db"))});d.exec("BEGIN EXCLUSIVE");setTimeout(()=>{d.exec("ROLLBACK");d.close()},2500)`,
          ],
          { stdio: "inherit" },
        );
        await new Promise((r2) => holder.once("exit", r2));
        fault("sqlite lock held past busy timeout");
      } else if (formation) {
        // Between failovers only agents die.
      } else if (network) {
        // The three network faults in turn, so that even a short run has each.
        const kind = networkFaults++ % 3;
        const cut = 1000 + rand() * 3000;
        if (kind === 0) {
          const s = network.servers[Math.floor(rand() * network.servers.length)]!;
          s.db.down();
          await sleep(cut);
          s.db.up();
          fault("serve cut off from PostgreSQL");
        } else if (kind === 1) {
          const a = network.agents[Math.floor(rand() * network.agents.length)]!;
          a.link.down();
          await sleep(cut);
          a.link.up();
          fault("agent host cut off from serve");
        } else {
          const relays = [...network.servers.map((s) => s.dbRelay), ...network.agents.map((a) => a.relay)];
          for (const x of relays) x.conditions = { delayMs: Math.floor(rand() * 40), loss: 0.03, reset: 0.003 };
          await sleep(cut);
          for (const x of relays) x.conditions = { ...CLEAN };
          fault("delay and loss");
        }
      } else if (o.backend === "postgres" && r < 0.7) {
        const s = servers[Math.floor(rand() * servers.length)]!;
        s.child.kill("SIGKILL");
        await new Promise((r2) => s.child.once("exit", r2));
        await sleep(300);
        const again = await startServer(s.port);
        s.child = again.child;
        fault("serve SIGKILL and restart");
      } else if (o.backend === "postgres") {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        const { rowCount } = await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", [appName]);
        await c.end();
        faults["backends terminated"] = (faults["backends terminated"] ?? 0) + (rowCount ?? 0);
      }
    }

    for (const c of children) c.kill("SIGTERM");
    const deadline = Date.now() + 15_000;
    while (children.size && Date.now() < deadline) await sleep(50);
    for (const c of children) c.kill("SIGKILL");

    // Drain: once every lease has lapsed, everything left must be claimable and finishable.
    await sleep(2500);
    for (;;) {
      let wo;
      try {
        wo = await ledger.claim({ project, agent: "drain", next: true, ttl: "1m" });
      } catch (e) {
        if ((e as { code?: string }).code === "NOTHING_TO_CLAIM") break;
        throw e;
      }
      ops.push({ w: "drain", op: "claim", ok: true, start: Date.now(), end: Date.now(), wo: wo.id, token: wo.lease!.token });
      await ledger.update({ project, agent: "drain", id: wo.id, status: "done", lease_token: wo.lease!.token });
      ops.push({ w: "drain", op: "done", ok: true, start: Date.now(), end: Date.now(), wo: wo.id, token: wo.lease!.token });
    }

    const events = [];
    for (let after = 0; ;) {
      const page = await ledger.history({ project, after, limit: 10_000 });
      if (!page.length) break;
      events.push(...page);
      after = page[page.length - 1]!.seq;
    }
    const wos = [];
    for (
      let page = await ledger.list({ project, status: "all", limit: 1000 });
      page.length;
      page = await ledger.list({ project, status: "all", limit: 1000, after: page.at(-1)!.id })
    )
      wos.push(...page);
    const notes = [];
    for (const w of wos) notes.push(...(await ledger.get({ project, id: w.id })).notes);
    const contexts = (await ledger.contextHistory({ project, limit: 10_000 })).entries;
    const { integrity } = await ledger.health();
    const violations = [...crashes, ...(network?.crashes ?? []), ...check(ops, { events, wos, notes, contexts, integrity }, { allDone: true })];
    // What the servers logged besides clients that hung up: the stack of whatever went wrong.
    for (const s of network?.servers ?? []) for (const m of s.stderr().matchAll(/^workledger serve: (?!client closed).*(\n\s+at .*)*/gm)) log(`${s.ns}: ${m[0]}`);
    if (o.faults === "failover" && kills.length < (o.failovers ?? 5)) violations.push(`only ${kills.length} of ${o.failovers ?? 5} failovers happened in the run`);

    let history: string | undefined;
    if (o.out) {
      mkdirSync(join(o.out, ".."), { recursive: true });
      writeFileSync(o.out, ops.map((x) => JSON.stringify(x)).join("\n") + "\n");
      history = o.out;
    }
    const byOutcome: Record<string, number> = {};
    for (const x of ops) byOutcome[`${x.op} ${x.ok ? "ok" : x.code}`] = (byOutcome[`${x.op} ${x.ok ? "ok" : x.code}`] ?? 0) + 1;
    const windows = failoverWindows(ops, kills);
    return {
      backend: o.backend,
      seed: o.seed,
      ops: ops.length,
      byOutcome,
      faults,
      violations,
      history,
      ...(formation ? { failovers: windows } : {}),
      latency: latency(ops, windows),
    };
  } finally {
    for (const c of children) c.kill("SIGKILL");
    for (const s of servers) s.child.kill("SIGKILL");
    await ledger?.close();
    rmSync(dir, { recursive: true, force: true });
    network?.stop();
    if (formation) await formation.stop();
    else if (o.backend === "postgres") {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: "string", default: "sqlite" },
      duration: { type: "string", default: "20s" },
      seed: { type: "string", default: "1" },
      workers: { type: "string", default: "8" },
      wos: { type: "string", default: "200" },
      faults: { type: "string", default: "standard" },
      failovers: { type: "string", default: "5" },
      "no-faults": { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  if (!["none", "standard", "failover", "partition"].includes(values.faults!)) throw new Error(`--faults ${values.faults}: use standard, failover, partition or none`);
  const backends = values.backend === "both" ? (["sqlite", "postgres"] as const) : [values.backend as "sqlite" | "postgres"];
  let failed = false;
  for (const backend of backends) {
    const r = await torture({
      backend,
      durationMs: parseDuration(values.duration!) ?? 20_000,
      seed: Number(values.seed),
      workers: Number(values.workers),
      wos: Number(values.wos),
      faults: values["no-faults"] ? "none" : (values.faults as TortureOptions["faults"]),
      failovers: Number(values.failovers),
      out: values.out ?? join("test-artifacts", `torture-${backend}-seed${values.seed}.jsonl`),
      log: (l) => console.log(l),
    });
    console.log(
      JSON.stringify(
        {
          backend: r.backend,
          seed: r.seed,
          ops: r.ops,
          faults: r.faults,
          outcomes: r.byOutcome,
          failovers: r.failovers,
          latency: r.latency,
          violations: r.violations.length,
          history: r.history,
        },
        null,
        2,
      ),
    );
    for (const v of r.violations) console.log(`VIOLATION: ${v}`);
    failed ||= r.violations.length > 0;
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
