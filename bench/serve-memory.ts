/**
 * Memory of `serve` under load: a real `serve` process on SQLite, clients
 * creating, claiming, finishing and reading through HTTP for `seconds`, RSS
 * and V8 heap sampled from /metrics. Reports growth from the first to the last
 * quarter: RSS on average, and the heap's lowest sample per quarter, which is
 * what survives garbage collection (a leak raises that floor; the saw-tooth
 * between collections does not).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RemoteLedger } from "../src/storage/remote/client.ts";
import type { Row } from "./run.ts";

const CLI = fileURLToPath(new URL("../dist/doors/cli/main.js", import.meta.url));

export async function serveMemory(seconds: number, clients: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "workledger-mem-"));
  const env = { ...process.env, WORKLEDGER_DB: join(dir, "ledger.db") };
  const tokens = Array.from({ length: clients }, (_, i) => (JSON.parse(spawnSync(process.execPath, [CLI, "token", "create", "--agent", `m${i}`, "--role", "agent", "--json"], { env, encoding: "utf8" }).stdout) as { token: string }).token);
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", "--rate", "1000000", "--burst", "1000000"], { env, stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise<string>((resolve) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = / on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
  });
  const sample = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return { rss: Number(/process_resident_memory_bytes (\d+)/.exec(text)?.[1]), heap: Number(/nodejs_heap_used_bytes (\d+)/.exec(text)?.[1]) };
  };
  const samples: { rss: number; heap: number }[] = [];
  const until = Date.now() + seconds * 1000;
  const sampler = (async () => {
    while (Date.now() < until) {
      samples.push(await sample());
      await new Promise((r) => setTimeout(r, Math.max(250, (seconds * 1000) / 120)));
    }
  })();
  await Promise.all(
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
  await sampler;
  child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
  const q = Math.max(1, Math.floor(samples.length / 4));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [head, tail] = [samples.slice(0, q), samples.slice(-q)];
  const rss = { first: avg(head.map((s) => s.rss)), last: avg(tail.map((s) => s.rss)) };
  const heap = { first: Math.min(...head.map((s) => s.heap)), last: Math.min(...tail.map((s) => s.heap)) };
  const what = `${seconds}s, ${clients} clients (last vs first quarter)`;
  return [
    { figure: `serve RSS under load, ${what}`, value: rss.last / 2 ** 20, unit: "MiB", baseline: "first quarter MiB", baselineValue: rss.first / 2 ** 20, ratio: rss.last / rss.first, target: "flat (≤ 1.2×)", pass: rss.last / rss.first <= 1.2 },
    { figure: `serve V8 heap floor under load, ${what}`, value: heap.last / 2 ** 20, unit: "MiB", baseline: "first quarter MiB", baselineValue: heap.first / 2 ** 20, ratio: heap.last / heap.first, target: "flat (≤ 1.2×)", pass: heap.last / heap.first <= 1.2 },
  ];
}
