/**
 * Real processes racing for the same work on one PostgreSQL database, each
 * test in its own schema. The fixtures load the built adapter from dist/, so
 * build first. Skipped with a warning when PostgreSQL is unreachable (fails
 * instead under CI=true), like the conformance backend.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { afterEach, beforeEach, describe, it } from "node:test";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { assertNoOverlappingLeases } from "../helpers/leases.ts";
import { fixture } from "../helpers/util.ts";

const available = await requirePostgres("concurrency");

function node(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** Start instant shared by every process of a race, far enough ahead for all of them to connect. */
const startAt = () => String(Date.now() + 2500);

interface EventRow {
  seq: number;
  wo: number | null;
  type: string;
  data: Record<string, unknown>;
}

describe("concurrency on PostgreSQL", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let schema: string;
  let ledger: Ledger;
  let db: pg.Client;

  /** Rows straight from the test schema's tables, not through the ledger. */
  const query = async <R extends object>(text: string, values: unknown[] = []) => (await db.query<R>(text, values)).rows;

  beforeEach(async () => {
    schema = uniqueSchema("wl_race");
    ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 }));
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query("SELECT set_config('search_path', $1, false)", [pg.escapeIdentifier(schema)]);
  });

  afterEach(async () => {
    await db.end();
    await ledger.close();
    await dropSchema(schema);
  });

  it("16 processes released at the same instant claim one WO: exactly one wins, the rest get LEASE_HELD", async () => {
    await ledger.create({ project: "race", agent: "obs", items: [{ title: "contested" }] });
    const at = startAt();
    const outs = await Promise.all(Array.from({ length: 16 }, (_, i) => node([fixture("pg-claim-at.mjs"), PG_URL, schema, `racer-${i}`, at])));
    const results = outs.map((o) => JSON.parse(o) as { agent: string; won: boolean; token?: number; code?: string; holder?: string });
    const winners = results.filter((r) => r.won);
    assert.equal(winners.length, 1, outs.join("\n"));
    assert.equal(winners[0]?.token, 1);
    const losers = results.filter((r) => !r.won);
    assert.ok(
      losers.every((r) => r.code === "LEASE_HELD" && r.holder === winners[0]?.agent),
      outs.join("\n"),
    );
    const claims = await query<{ agent: string }>("SELECT agent FROM events WHERE project = 'race' AND wo = 1 AND type = 'claimed'");
    assert.deepEqual(
      claims.map((c) => c.agent),
      [winners[0]?.agent],
    );
  });

  it("same-file protection holds under a race: of 8 claims of different WOs touching the same files, one wins", async () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ title: `edit ${i}`, files: [`src/own${i}.ts`, i % 2 ? "src/shared/**" : "src/shared/db.ts"] }));
    await ledger.create({ project: "files", agent: "obs", items });
    let at = startAt();
    const byId = await Promise.all(items.map((_, i) => node([fixture("pg-claim-at.mjs"), PG_URL, schema, `excl-${i}`, at, "files", String(i + 1), "exclusive"])));
    const exclusive = byId.map((o) => JSON.parse(o) as { won: boolean; id?: number; code?: string });
    assert.equal(exclusive.filter((r) => r.won).length, 1, byId.join("\n"));
    assert.ok(
      exclusive.filter((r) => !r.won).every((r) => r.code === "FILE_CONFLICT"),
      byId.join("\n"),
    );
    const [held] = exclusive.filter((r) => r.won);
    await ledger.release({ project: "files", agent: `excl-${held!.id! - 1}`, id: held!.id! });

    at = startAt();
    const nexts = await Promise.all(items.map((_, i) => node([fixture("pg-claim-at.mjs"), PG_URL, schema, `next-${i}`, at, "files", "next"])));
    const next = nexts.map((o) => JSON.parse(o) as { won: boolean; code?: string });
    assert.equal(next.filter((r) => r.won).length, 1, nexts.join("\n"));
    assert.ok(
      next.filter((r) => !r.won).every((r) => r.code === "NOTHING_TO_CLAIM"),
      nexts.join("\n"),
    );
  });

  it("concurrent claim --next hands out distinct WOs and never says nothing is free while work is free", async () => {
    await ledger.create({ project: "nexts", agent: "obs", items: Array.from({ length: 10 }, (_, i) => ({ title: `free ${i}` })) });
    const at = startAt();
    const outs = await Promise.all(Array.from({ length: 6 }, (_, i) => node([fixture("pg-claim-at.mjs"), PG_URL, schema, `n-${i}`, at, "nexts", "next"])));
    const results = outs.map((o) => JSON.parse(o) as { won: boolean; id?: number });
    assert.ok(
      results.every((r) => r.won),
      outs.join("\n"),
    );
    assert.equal(new Set(results.map((r) => r.id)).size, 6);
  });

  it("8 workers drain 300 WOs with claim --next: every WO done exactly once", async () => {
    const project = "pool";
    const items = Array.from({ length: 300 }, (_, i) => ({ title: `task ${i}`, priority: `P${i % 4}` as "P0" }));
    await ledger.create({ project, agent: "obs", items });
    const at = startAt();
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => node([fixture("pg-pool-worker.mjs"), PG_URL, schema, project, `worker-${i}`, at])));
    const workers = outs.map((o) => JSON.parse(o) as { agent: string; done: number[]; errors: string[] });
    assert.deepEqual(
      workers.flatMap((w) => w.errors),
      [],
    );
    const done = workers.flatMap((w) => w.done).sort((a, b) => a - b);
    assert.deepEqual(
      done,
      Array.from({ length: 300 }, (_, i) => i + 1),
      "each WO completed by exactly one worker",
    );
    assert.ok(workers.filter((w) => w.done.length > 0).length > 1, "work was shared");

    const events = await query<EventRow>("SELECT seq, wo, type, data FROM events WHERE project = $1 ORDER BY seq", [project]);
    const doneEvents = events.filter((e) => e.type === "status_changed" && e.data.to === "done");
    assert.equal(doneEvents.length, 300);
    assert.equal(new Set(doneEvents.map((e) => e.wo)).size, 300);
    assert.equal(events.filter((e) => e.type === "claimed").length, 300, "no WO was claimed twice");
    assertNoOverlappingLeases(events);
    const left = await query<{ n: string }>("SELECT count(*) AS n FROM work_orders WHERE project = $1 AND status <> 'done'", [project]);
    assert.equal(Number(left[0]?.n), 0);
  });

  it("8 processes create 50 WOs each in one new project: ids 1..400, none handed out twice", async () => {
    const project = "fresh";
    const at = startAt();
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => node([fixture("pg-creator.mjs"), PG_URL, schema, project, `creator-${i}`, "50", at])));
    const creators = outs.map((o) => JSON.parse(o) as { agent: string; ids: number[]; errors: string[] });
    assert.deepEqual(
      creators.flatMap((c) => c.errors),
      [],
    );
    const expected = Array.from({ length: 400 }, (_, i) => i + 1);
    assert.deepEqual(
      creators.flatMap((c) => c.ids).sort((a, b) => a - b),
      expected,
      "the processes were given distinct ids",
    );
    const stored = await query<{ id: number }>("SELECT id FROM work_orders WHERE project = $1 ORDER BY id", [project]);
    assert.deepEqual(
      stored.map((r) => r.id),
      expected,
    );
    const [p] = await query<{ next_id: number }>("SELECT next_id FROM projects WHERE name = $1", [project]);
    assert.equal(p?.next_id, 401);
  });
});
