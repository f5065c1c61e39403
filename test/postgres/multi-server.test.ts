/**
 * Multi-machine simulation: two `workledger serve` processes on different
 * ports against one PostgreSQL database (a schema of its own), with clients
 * split between them.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, schemaUrl, uniqueSchema } from "../conformance/backends.ts";
import { CLI } from "../helpers/cli.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";

const available = await requirePostgres("multi-server");
const fixture = fileURLToPath(new URL("../fixtures/remote-pool-worker.mjs", import.meta.url));

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout }),
    );
  });
}

describe("two servers, one PostgreSQL database", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let schema: string;
  let url: string;
  let ledger: Ledger;
  let servers: ServeProcess[];
  const token = async (agent: string) => (await ledger.tokens.create({ agent, role: "agent" }, "admin")).token;

  before(async () => {
    schema = uniqueSchema("wl_multi");
    ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema }));
    url = schemaUrl(schema);
    servers = await Promise.all([serve({ WORKLEDGER_DATABASE_URL: url }), serve({ WORKLEDGER_DATABASE_URL: url })]);
  });
  after(async () => {
    await Promise.all((servers ?? []).map((s) => s.stop()));
    await ledger?.close();
    if (schema) await dropSchema(schema);
  });

  it("16 CLI clients split across both servers claim one WO: exactly one wins", async () => {
    await ledger.create({ project: "race", agent: "obs", items: [{ title: "contested" }] });
    const clients = await Promise.all(Array.from({ length: 16 }, (_, i) => token(`client-${i}`)));
    const runs = await Promise.all(clients.map((t, i) => run([CLI, "claim", "-p", "race", "--id", "1", "--json"], { WORKLEDGER_URL: servers[i % 2]!.url, WORKLEDGER_TOKEN: t })));
    assert.deepEqual(runs.map((r) => r.code).sort(), [0, ...Array(15).fill(3)], runs.map((r) => r.stdout).join("\n"));
    const winner = JSON.parse(runs.find((r) => r.code === 0)!.stdout).lease.agent;
    for (const r of runs.filter((r) => r.code === 3)) assert.equal(JSON.parse(r.stdout).error.details.holder, winner);
  });

  it("a claim --next pool of 8 workers over 500 WOs through both servers: every WO done exactly once", async () => {
    const project = "pool";
    for (let i = 0; i < 5; i++) {
      await ledger.create({
        project,
        agent: "obs",
        items: Array.from({ length: 100 }, (_, j) => ({ title: `task ${i * 100 + j}`, priority: (["P0", "P1", "P2", "P3"] as const)[j % 4] })),
      });
    }
    const workers = await Promise.all(Array.from({ length: 8 }, (_, i) => token(`worker-${i}`)));
    const outs = await Promise.all(workers.map((t, i) => run([fixture, servers[i % 2]!.url, t, project], {})));
    const results = outs.map((o) => JSON.parse(o.stdout) as { done: number[]; errors: string[] });
    assert.deepEqual(
      results.flatMap((r) => r.errors),
      [],
    );
    const done = results.flatMap((r) => r.done).sort((a, b) => a - b);
    assert.deepEqual(
      done,
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    assert.ok(results.filter((r) => r.done.length > 0).length >= 4, "work spread over the workers");

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const { rows } = await db.query<{ type: string; n: string; wos: string }>(
        "SELECT type, count(*) AS n, count(DISTINCT wo) AS wos FROM events WHERE project = $1 AND type IN ('claimed', 'status_changed') GROUP BY type ORDER BY type",
        [project],
      );
      assert.deepEqual(
        rows.map((r) => [r.type, Number(r.n), Number(r.wos)]),
        [
          ["claimed", 500, 500],
          ["status_changed", 500, 500],
        ],
      );
    } finally {
      await db.end();
    }
  });

  it("events written through one server stream out of the other", async () => {
    const reader = (await ledger.tokens.create({ agent: "watcher", role: "reader" }, "admin")).token;
    const ctl = new AbortController();
    const res = await fetch(`${servers[1]!.url}/v1/events?project=sse`, { headers: { authorization: `Bearer ${reader}` }, signal: ctl.signal });
    const writer = await token("writer");
    const created = await run([CLI, "create", "-p", "sse", "--title", "across servers", "--json"], { WORKLEDGER_URL: servers[0]!.url, WORKLEDGER_TOKEN: writer });
    assert.equal(created.code, 0, created.stdout);
    const body = res.body!.getReader();
    let text = "";
    const deadline = Date.now() + 5000;
    while (!text.includes("across servers") && Date.now() < deadline) text += new TextDecoder().decode((await body.read()).value);
    ctl.abort();
    assert.match(text, /event: created/);
  });
});
