/**
 * A pg_auto_failover formation of the test's own: a monitor and two
 * PostgreSQL nodes (primary and synchronous standby) on free loopback ports,
 * each a `pg_autoctl run` in its own process group under a temporary
 * directory. The monitor is tuned to fail over in seconds, not the default
 * half minute. Needs Debian's postgresql-15-auto-failover (see available()).
 * As root the services run as the postgres user (PostgreSQL refuses root).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { skipLoudly } from "./util.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pgBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, "bin")).find((d) => existsSync(join(d, "pg_ctl")));
}

function onPath(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Whether a formation can be started here; if not, the tests say so loudly (and fail under CI=true). */
export function requireFormation(tests: string): boolean {
  const why = !onPath("pg_autoctl") ? "pg_autoctl is not installed" : pgBin() === undefined ? "no PostgreSQL server binaries under /usr/lib/postgresql" : undefined;
  return why === undefined || skipLoudly(tests, why, ["Install pg_auto_failover: apt-get install -y postgresql-15-auto-failover (.ci/run does)."]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** libfaketime, which shifts a process's wall clock (Debian's libfaketime), or undefined. */
export function faketimeLibrary(): string | undefined {
  const lib = "/usr/lib";
  if (!existsSync(lib)) return undefined;
  return readdirSync(lib)
    .map((d) => join(lib, d, "faketime", "libfaketime.so.1"))
    .find((f) => existsSync(f));
}

/** Monitor settings that make a dead primary be replaced in about five seconds. */
const FAST = {
  "pgautofailover.health_check_period": 1000,
  "pgautofailover.health_check_timeout": 1000,
  "pgautofailover.health_check_max_retries": 1,
  "pgautofailover.health_check_retry_delay": 500,
  "pgautofailover.node_considered_unhealthy_timeout": 2000,
  "pgautofailover.startup_grace_period": 2000,
  "pgautofailover.primary_demote_timeout": 3000,
};

interface Node {
  name: string;
  port: number;
  pgdata: string;
  child?: ChildProcess;
  /** The node's wall clock offset (libfaketime's FAKETIME, e.g. "-20s"), if shifted. */
  clock?: string;
}

export class Formation {
  readonly nodes: Node[];
  private monitor?: ChildProcess;
  private readonly monitorPort: number;
  private readonly user: { uid: number; gid: number } | undefined;
  private readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly dir: string,
    ports: number[],
    private readonly log: (line: string) => void,
    clocks: (string | undefined)[],
  ) {
    this.monitorPort = ports[0]!;
    this.nodes = [1, 2].map((i) => ({ name: `node${i}`, port: ports[i]!, pgdata: join(dir, `node${i}`), ...(clocks[i - 1] ? { clock: clocks[i - 1] } : {}) }));
    const asRoot = process.getuid?.() === 0;
    this.user = asRoot ? { uid: Number(execFileSync("id", ["-u", "postgres"]).toString()), gid: Number(execFileSync("id", ["-g", "postgres"]).toString()) } : undefined;
    if (this.user) chownSync(dir, this.user.uid, this.user.gid);
    this.env = { PATH: `${pgBin()}:${process.env.PATH}`, HOME: dir, XDG_CONFIG_HOME: join(dir, "config"), XDG_DATA_HOME: join(dir, "data") };
  }

  /** `clocks`: per node, a wall clock offset for libfaketime (e.g. [undefined, "-20s"]: node2 runs 20 s slow). */
  static async start(log: (line: string) => void = () => undefined, clocks: (string | undefined)[] = []): Promise<Formation> {
    const f = new Formation(mkdtempSync(join(tmpdir(), "workledger-failover-")), [await freePort(), await freePort(), await freePort()], log, clocks);
    try {
      await f.boot();
      return f;
    } catch (e) {
      await f.stop();
      throw e;
    }
  }

  /** The URL workledger is given, as the README says: every node, writable sessions only, TLS with the formation's self-signed certificates. */
  get url(): string {
    return `postgres://postgres@${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(",")}/test?target_session_attrs=read-write&sslmode=require&uselibpqcompat=true`;
  }

  nodeUrl(n: Node): string {
    return `postgres://postgres@127.0.0.1:${n.port}/test`;
  }

  private get monitorUrl(): string {
    return `postgres://autoctl_node@127.0.0.1:${this.monitorPort}/pg_auto_failover`;
  }

  /** A service in its own process group, so that SIGKILL of the group takes PostgreSQL down with its keeper. */
  private run(args: string[], name: string, clock?: string): ChildProcess {
    // A shifted wall clock for the node's keeper and PostgreSQL; timers (the monotonic clock) stay true.
    const env = clock === undefined ? this.env : { ...this.env, LD_PRELOAD: faketimeLibrary(), FAKETIME: clock, DONT_FAKE_MONOTONIC: "1" };
    const child = spawn("pg_autoctl", args, { cwd: this.dir, env, detached: true, stdio: ["ignore", "ignore", "pipe"], ...(this.user ?? {}) });
    let tail = "";
    child.stderr!.on("data", (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
      if (process.env.WORKLEDGER_FAILOVER_DEBUG) process.stderr.write(`[${name}] ${d.toString()}`);
    });
    child.once("exit", (code, signal) => {
      if (signal !== "SIGKILL" && signal !== "SIGTERM") this.log(`${name} exited (${code ?? signal}): ${tail.slice(-600)}`);
    });
    return child;
  }

  private async boot(): Promise<void> {
    const common = ["--auth", "trust", "--ssl-self-signed", "--hostname", "127.0.0.1", "--pgctl", join(pgBin()!, "pg_ctl")];
    this.monitor = this.run(["create", "monitor", "--pgdata", join(this.dir, "monitor"), "--pgport", String(this.monitorPort), ...common, "--run"], "monitor");
    await this.until("the monitor accepts connections", 60_000, async () => {
      await this.sql(`postgres://postgres@127.0.0.1:${this.monitorPort}/pg_auto_failover`, "SELECT 1 FROM pgautofailover.formation LIMIT 1");
      return true;
    });
    const settings = Object.entries(FAST).map(([k, v]) => `ALTER SYSTEM SET ${k} = ${v}`);
    for (const s of [...settings, "SELECT pg_reload_conf()"]) await this.sql(`postgres://postgres@127.0.0.1:${this.monitorPort}/pg_auto_failover`, s);
    for (const n of this.nodes) {
      n.child = this.run(
        [
          "create",
          "postgres",
          "--pgdata",
          n.pgdata,
          "--pgport",
          String(n.port),
          "--listen",
          "127.0.0.1",
          "--name",
          n.name,
          "--dbname",
          "test",
          "--monitor",
          this.monitorUrl,
          ...common,
          "--run",
        ],
        n.name,
        n.clock,
      );
      // The second node copies the first with pg_basebackup: the first must be primary by then.
      await this.until(`${n.name} joins`, 90_000, async () => {
        await this.nudge();
        return (await this.states()).some((s) => s.name === n.name && s.reported === s.goal && s.reported !== "init");
      });
    }
    await this.healthy(90_000);
  }

  /** Each node's name, reported state and goal state, as the monitor sees them. */
  async states(): Promise<{ name: string; reported: string; goal: string }[]> {
    return this.sql<{ name: string; reported: string; goal: string }>(
      `postgres://postgres@127.0.0.1:${this.monitorPort}/pg_auto_failover`,
      "SELECT nodename AS name, reportedstate AS reported, goalstate AS goal FROM pgautofailover.node ORDER BY nodeid",
    );
  }

  /** Waits for one primary and one secondary, both settled. */
  async healthy(timeoutMs = 60_000): Promise<void> {
    await this.until("a primary and a secondary", timeoutMs, async () => {
      await this.nudge();
      const s = (await this.states()).map((x) => `${x.reported}/${x.goal}`).sort();
      return s.join(" ") === "primary/primary secondary/secondary";
    });
  }

  /**
   * A standby (re)joining copies the primary with pg_basebackup, which waits
   * for a spread checkpoint (minutes on an idle server); CHECKPOINT on the
   * primary ends it at once.
   */
  private async nudge(): Promise<void> {
    const p = await this.primary();
    if (p) await this.sql(this.nodeUrl(p), "CHECKPOINT").catch(() => undefined);
  }

  /** The node that takes writes now, if any. */
  async primary(): Promise<Node | undefined> {
    for (const n of this.nodes) {
      try {
        const [r] = await this.sql<{ ro: string }>(this.nodeUrl(n), "SELECT current_setting('transaction_read_only') AS ro");
        if (r?.ro === "off") return n;
      } catch {
        // down or starting
      }
    }
    return undefined;
  }

  /** SIGKILL of the node's keeper and PostgreSQL (its whole process group): the machine is gone. */
  kill(n: Node): void {
    if (n.child?.pid !== undefined) {
      try {
        process.kill(-n.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    n.child = undefined;
  }

  /** Starts a killed node again; pg_auto_failover makes it the new primary's standby. */
  restart(n: Node): void {
    n.child = this.run(["run", "--pgdata", n.pgdata], n.name, n.clock);
  }

  /** Kills the primary, waits until the other node takes writes, restarts the dead one and waits for the pair. */
  async failover(): Promise<{ at: number; killed: string; promotedAfterMs: number }> {
    let old: Node | undefined;
    await this.until("a primary", 60_000, async () => (old = await this.primary()) !== undefined);
    const at = Date.now();
    this.kill(old!);
    const promoted = await this.recover(old!);
    return { at, killed: old!.name, promotedAfterMs: promoted - at };
  }

  /** After `old` was killed: waits until the other node takes writes, then restarts `old` and waits for the pair. Returns when the other took writes. */
  async recover(old: Node): Promise<number> {
    await this.until("a new primary", 60_000, async () => {
      const p = await this.primary();
      return p !== undefined && p !== old;
    });
    const promoted = Date.now();
    this.restart(old);
    await this.healthy(90_000);
    return promoted;
  }

  private async sql<R extends object>(url: string, text: string): Promise<R[]> {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    c.on("error", () => undefined);
    try {
      await c.connect();
      return (await c.query<R>(text)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private async until(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        if (await ok()) return;
      } catch (e) {
        last = e;
      }
      await sleep(200);
    }
    throw new Error(
      `pg_auto_failover: no ${what} within ${timeoutMs / 1000}s${last ? ` (${(last as Error).message})` : ""}; states: ${JSON.stringify(await this.states().catch(() => "unknown"))}`,
    );
  }

  async stop(): Promise<void> {
    for (const c of [...this.nodes.map((n) => n.child), this.monitor])
      if (c?.pid !== undefined)
        try {
          process.kill(-c.pid, "SIGKILL");
        } catch {
          // already gone
        }
    await sleep(200);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
