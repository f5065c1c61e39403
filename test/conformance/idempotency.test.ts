/**
 * Issue 17's safe retries through the library API, once per back end: every
 * write sent twice with one idempotency key acts once and answers the same;
 * the key with other input is refused; nothing changes either time.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import Database from "better-sqlite3";
import { Ledger } from "../../src/core/ledger.ts";
import { openSqliteStore } from "../../src/storage/sqlite/store.ts";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "./backends.ts";

const P = "idem";
const A = { project: P, agent: "alice", role: "agent" as const };
const B = { project: P, agent: "bob", role: "agent" as const };
const verification = (passed: boolean) => ({ ...A, id: 2, passed, exit_code: passed ? 0 : 1, duration_ms: 5, output_tail: "", command: "true" });

interface Case {
  op: string;
  /** What has to be true before the write (a lease for the holder's writes). */
  setup?: (l: LedgerApi) => Promise<unknown>;
  write: (l: LedgerApi, key: string) => Promise<unknown>;
  /** The same key with other input. */
  other: (l: LedgerApi, key: string) => Promise<unknown>;
}

const holding = (id: number) => (l: LedgerApi) => l.claim({ ...A, id });
const CASES: Case[] = [
  { op: "claim", write: (l, k) => l.claim({ ...A, id: 1, idempotency_key: k }), other: (l, k) => l.claim({ ...A, id: 2, idempotency_key: k }) },
  {
    op: "renew",
    setup: holding(1),
    write: (l, k) => l.renew({ ...A, id: 1, ttl: "10m", idempotency_key: k }),
    other: (l, k) => l.renew({ ...A, id: 1, ttl: "20m", idempotency_key: k }),
  },
  {
    op: "release",
    setup: holding(1),
    write: (l, k) => l.release({ ...A, id: 1, status: "done", idempotency_key: k }),
    other: (l, k) => l.release({ ...A, id: 1, status: "blocked", note: "stuck", idempotency_key: k }),
  },
  {
    op: "update",
    setup: holding(1),
    write: (l, k) => l.update({ ...A, id: 1, fields: { title: "renamed" }, idempotency_key: k }),
    other: (l, k) => l.update({ ...A, id: 1, fields: { title: "renamed again" }, idempotency_key: k }),
  },
  {
    op: "addNote",
    write: (l, k) => l.addNote({ ...A, id: 1, body: "found it", idempotency_key: k }),
    other: (l, k) => l.addNote({ ...A, id: 1, body: "found something else", idempotency_key: k }),
  },
  {
    op: "recordVerification",
    setup: holding(2),
    write: (l, k) => l.recordVerification({ ...verification(true), idempotency_key: k }),
    other: (l, k) => l.recordVerification({ ...verification(false), idempotency_key: k }),
  },
  {
    op: "contextPut",
    setup: holding(1),
    write: (l, k) => l.contextPut({ ...A, body: "halfway", id: 1, idempotency_key: k }),
    other: (l, k) => l.contextPut({ ...A, body: "all done", id: 1, idempotency_key: k }),
  },
  {
    op: "spend",
    setup: holding(1),
    write: (l, k) => l.spend({ ...A, id: 1, cost_usd: 0.25, idempotency_key: k }),
    other: (l, k) => l.spend({ ...A, id: 1, cost_usd: 0.5, idempotency_key: k }),
  },
  {
    op: "create",
    write: (l, k) => l.create({ ...A, items: [{ title: "new" }], idempotency_key: k }),
    other: (l, k) => l.create({ ...A, items: [{ title: "other" }], idempotency_key: k }),
  },
];

for (const backend of backends) {
  describe(`idempotent writes on ${backend.name} (issue 17)`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    /** What a reader sees: every event, and every WO with its notes and context. */
    const state = async () => ({
      events: (await l.history({ project: P })).length,
      // (context without its age, which the clock moves)
      wos: await Promise.all([1, 2].map(async (id) => ({ ...(await l.get({ project: P, id })), context: null }))),
      context: (await l.contextHistory({ project: P })).entries.map((e) => [e.id, e.body]),
      list: await l.list({ project: P, status: "all" }),
    });

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
      await l.create({ project: P, agent: "obs", items: [{ title: "one" }, { title: "two", verification: "true" }] });
    });
    afterEach(async () => cleanup());

    for (const c of CASES) {
      it(`${c.op}: a repeat with the key answers the first result and changes nothing; other input with it is refused`, async () => {
        await c.setup?.(l);
        const first = JSON.parse(JSON.stringify(await c.write(l, `key-${c.op}`))) as unknown;
        const after = await state();
        t.advance(1000);
        assert.deepEqual(await c.write(l, `key-${c.op}`), first);
        assert.deepEqual(await state(), after);
        const e = await rejects(c.other(l, `key-${c.op}`), "IDEMPOTENCY_MISMATCH");
        assert.match(e.message, /already used/);
        assert.deepEqual(await state(), after);
      });
    }

    it("a claim whose answer was lost is answered again with the same lease; another agent's same key is its own", async () => {
      const first = await l.claim({ ...A, id: 1, idempotency_key: "attempt-1" });
      const again = await l.claim({ ...A, id: 1, idempotency_key: "attempt-1" });
      assert.equal(again.lease?.token, first.lease?.token);
      assert.equal((await l.get({ project: P, id: 1 })).revision, first.revision);
      await rejects(l.claim({ ...B, id: 1, idempotency_key: "attempt-1" }), "LEASE_HELD");
      // A write that failed kept nothing: retried, it runs again.
      await l.release({ ...A, id: 1 });
      assert.equal((await l.claim({ ...B, id: 1, idempotency_key: "attempt-1" })).lease?.agent, "bob");
    });

    it("a retried release answers its first result, but not while the caller holds the WO under a later lease (twenty-eighth trials)", async () => {
      await l.claim({ ...A, id: 1 });
      const first = await l.release({ ...A, id: 1, idempotency_key: "r1" });
      assert.deepEqual([(await l.release({ ...A, id: 1, idempotency_key: "r1" })).revision], [first.revision], "a plain retry");
      await l.claim({ ...A, id: 1 });
      const e = await rejects(l.release({ ...A, id: 1, idempotency_key: "r1" }), "IDEMPOTENCY_MISMATCH");
      assert.match(e.message, /answers the release of WO-1 under lease 1; you hold it under lease 2 now: nothing was written/);
      assert.equal((await l.get({ project: P, id: 1 })).lease?.token, 2, "still held");
    });

    it("create: a key is the agent's (another agent's same key creates its own), and a repeat answers the first result even after the WOs changed", async () => {
      const [mine] = await l.create({ ...A, items: [{ title: "batch" }], idempotency_key: "plan-1" });
      const [theirs] = await l.create({ ...B, items: [{ title: "batch" }], idempotency_key: "plan-1" });
      assert.notEqual(theirs!.id, mine!.id);
      await l.update({ ...A, id: mine!.id, fields: { title: "renamed since" } });
      const [again] = await l.create({ ...A, items: [{ title: "batch" }], idempotency_key: "plan-1" });
      assert.deepEqual([again!.id, again!.title, again!.revision], [mine!.id, "batch", mine!.revision]);
      assert.equal((await l.list({ project: P, status: "all" })).length, 4);
    });

    it("a key counts for 24 hours: after that it may be used afresh", async () => {
      await l.addNote({ ...A, id: 1, body: "first", idempotency_key: "daily" });
      t.advance(24 * 3_600_000 + 1000);
      const again = await l.addNote({ ...A, id: 1, body: "a new day", idempotency_key: "daily" });
      assert.equal(again.body, "a new day");
      assert.equal((await l.get({ project: P, id: 1 })).notes.length, 2);
    });
  });
}

describe("idempotency records past their window", () => {
  it("are deleted by later keyed writes, so the table holds about one window's writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wl-idem-"));
    const path = join(dir, "l.db");
    const t = clock();
    const l = new Ledger(openSqliteStore({ path, clock: () => t.now }));
    const rows = () => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM idempotent_writes").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    try {
      await l.create({ project: P, agent: "obs", items: [{ title: "one" }] });
      for (let i = 0; i < 20; i++) await l.addNote({ ...A, id: 1, body: `n${i}`, idempotency_key: `old-${i}` });
      assert.equal(rows(), 20);
      t.advance(24 * 3_600_000 + 1);
      await l.addNote({ ...A, id: 1, body: "new", idempotency_key: "new-1" });
      assert.equal(rows(), 1 + 20 - 16, "one new record, 16 old ones gone");
      await l.addNote({ ...A, id: 1, body: "new", idempotency_key: "new-2" });
      assert.equal(rows(), 2);
    } finally {
      await l.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
