/**
 * Memory of `serve` under load, two ways in the same time window:
 * - a real `serve` process on SQLite with clients creating, claiming,
 *   finishing and reading through HTTP; its RSS sampled from /metrics;
 * - the same server and clients in this process, where a full garbage
 *   collection can be forced before each sample, so the V8 heap figure is
 *   what is really retained (a leak raises it; the saw-tooth between
 *   collections, which made the child's heap samples unreadable, does not).
 * Both report the last quarter of the run against the first.
 */
import { progress } from "./progress.ts";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { Metrics } from "../src/doors/http/metrics.ts";
import { startServer } from "../src/doors/http/server.ts";
import { openLedger } from "../src/index.ts";
import { RemoteLedger } from "../src/remote/client.ts";
import type { Row } from "./run.ts";

const CLI = fileURLToPath(new URL("../dist/doors/cli/main.js", import.meta.url));

/** Clients that keep the server busy until `until`: create 20, drain them, list. */
function load(url: string, tokens: string[], until: number): Promise<void[]> {
  return Promise.all(
    tokens.map(async (t, i) => {
      const l = new RemoteLedger(url, t);
      const project = `mem${i}`;
      while (Date.now() < until) {
        await l.create({ project, items: Array.from({ length: 20 }, (_, j) => ({ title: `w${j}` })) } as never);
        for (;;) {
          const wo = await l.claim({ project, next: true } as never).catch(() => null);
          if (!wo) break;
          await l.update({ project, id: wo.id, status: "done", lease_token: wo.lease!.token } as never);
        }
        await l.list({ project, status: "all", limit: 50 });
      }
    }),
  );
}

async function sampleUntil(until: number, every: number, sample: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  while (Date.now() < until) {
    out.push(await sample());
    await new Promise((r) => setTimeout(r, every));
  }
  return out;
}

function growth(figure: string, samples: number[]): Row {
  const q = Math.max(1, Math.floor(samples.length / 4));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = avg(samples.slice(0, q));
  const last = avg(samples.slice(-q));
  return {
    figure,
    value: last / 2 ** 20,
    unit: "MiB",
    baseline: "first quarter MiB",
    baselineValue: first / 2 ** 20,
    ratio: last / first,
    target: "flat (≤ 1.2×)",
    pass: last / first <= 1.2,
  };
}

/** A real `serve` process (the built CLI) with rate limits out of the way, once it says where it listens. */
export async function spawnServe(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--rate", "1000000", "--burst", "1000000", "--read-rate", "1000000000", "--read-burst", "1000000000"], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = "";
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = / on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
  });
  return { child, url };
}

async function childRss(dir: string, clients: number, seconds: number, every: number): Promise<number[]> {
  const env = { ...process.env, WORKLEDGER_DB: join(dir, "child.db") };
  const tokens = Array.from(
    { length: clients },
    (_, i) =>
      (
        JSON.parse(spawnSync(process.execPath, [CLI, "token", "create", "--as-admin", "--agent", `m${i}`, "--role", "agent", "--json"], { env, encoding: "utf8" }).stdout) as {
          token: string;
        }
      ).token,
  );
  const { child, url } = await spawnServe(env);
  const until = Date.now() + seconds * 1000; // from when the server is up
  const rss = async () =>
    Number(/process_resident_memory_bytes (\d+)/.exec(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${tokens[0]}` } })).text())?.[1]);
  const [samples] = await Promise.all([sampleUntil(until, every, rss), load(url, tokens, until)]);
  child.kill("SIGTERM");
  return samples;
}

async function inProcessHeap(dir: string, clients: number, seconds: number, every: number): Promise<number[]> {
  // The benchmark runs without --expose-gc; this is the documented way to reach gc() anyway.
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const metrics = new Metrics();
  const ledger = await openLedger({ db: join(dir, "in-process.db"), onEvents: (e) => metrics.observeEvents(e) });
  const server = await startServer({
    ledger,
    metrics,
    host: "127.0.0.1",
    port: 0,
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    readLimit: { perSecond: 1e9, burst: 1e9 },
    version: "bench",
    publicMetrics: true,
  });
  const tokens = await Promise.all(Array.from({ length: clients }, (_, i) => ledger.tokens.create({ agent: `h${i}`, role: "agent" }, "admin")));
  const until = Date.now() + seconds * 1000;
  const heap = async () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  const [samples] = await Promise.all([
    sampleUntil(until, every, heap),
    load(
      server.url,
      tokens.map((t) => t.token),
      until,
    ),
  ]);
  await server.close();
  await ledger.close();
  return samples;
}

export async function serveMemory(seconds: number, clients: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "workledger-mem-"));
  const every = Math.max(250, (seconds * 1000) / 120);
  progress(`  serve memory: ${seconds}s of load from ${clients} clients, a child process and in-process side by side`);
  try {
    const [rss, heap] = await Promise.all([childRss(dir, clients, seconds, every), inProcessHeap(dir, clients, seconds, every)]);
    const what = `${seconds}s, ${clients} clients (last vs first quarter)`;
    return [growth(`serve RSS under load, ${what}`, rss), growth(`serve V8 heap after full GC under load (in-process), ${what}`, heap)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
