/**
 * Issue 17's clock honesty: on PostgreSQL a lease is timed by the database's
 * clock only. Writers whose own clocks are an hour fast or an hour slow (real
 * processes with a shifted Date) neither shorten a lease (a fast claimant
 * does not see a live lease as lapsed) nor stretch one (a slow holder's
 * renewal ends TTL after the database's now, not its own).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { afterEach, beforeEach, describe, it } from "node:test";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { fixture } from "../helpers/util.ts";

const available = await requirePostgres("clock");
const HOUR = 3_600_000;

interface Outcome {
  ok: boolean;
  code?: string;
  lease?: { agent: string; claimed_at: string; expires_at: string };
  local_now?: string;
}

function write(schema: string, offsetMs: number, op: "claim" | "renew", agent: string, ttl: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", fixture("shifted-clock.mjs"), fixture("pg-clock-writer.mjs"), PG_URL, schema, op, agent, ttl],
      { env: { ...process.env, CLOCK_OFFSET_MS: String(offsetMs) }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Outcome)),
    );
  });
}

describe("lease time is the database's on PostgreSQL (issue 17)", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let schema: string;
  let ledger: Ledger;
  let db: pg.Client;
  const dbNow = async () => Date.parse((await db.query<{ now: Date }>("SELECT now() AS now")).rows[0]!.now.toISOString());

  beforeEach(async () => {
    schema = uniqueSchema("wl_clock");
    ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 }));
    await ledger.create({ project: "clock", agent: "obs", items: [{ title: "timed" }] });
    db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
  });
  afterEach(async () => {
    await db.end();
    await ledger.close();
    await dropSchema(schema);
  });

  it("a holder an hour slow claims and renews leases that run TTL from the database's now; a claimant an hour fast sees them live", async () => {
    const slow = await write(schema, -HOUR, "claim", "slow", "10m");
    assert.ok(slow.ok, JSON.stringify(slow));
    const before = await dbNow();
    const claimed = Date.parse(slow.lease!.claimed_at);
    assert.ok(Math.abs(claimed - before) < 60_000, `claimed at ${slow.lease!.claimed_at}, the database says ${new Date(before).toISOString()}`);
    assert.ok(Math.abs(Date.parse(slow.local_now!) - claimed) > HOUR - 60_000, "the writer's own clock really was an hour off");
    assert.equal(Date.parse(slow.lease!.expires_at) - claimed, 10 * 60_000);

    // An hour fast, a rival would think a 10-minute lease long gone: the database does not.
    const fast = await write(schema, HOUR, "claim", "fast", "10m");
    assert.deepEqual(fast, { ok: false, code: "LEASE_HELD" });

    // The slow holder renews: the lease ends 10 minutes after the database's now, not its own.
    const renewed = await write(schema, -HOUR, "renew", "slow", "10m");
    assert.ok(renewed.ok, JSON.stringify(renewed));
    const at = await dbNow();
    const expires = Date.parse(renewed.lease!.expires_at);
    assert.ok(Math.abs(expires - (at + 10 * 60_000)) < 60_000, `renewed until ${renewed.lease!.expires_at}`);
    const stored = (await ledger.get({ project: "clock", id: 1 })).lease;
    assert.equal(stored?.expires_at, renewed.lease!.expires_at);
  });
});
