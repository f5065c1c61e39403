/**
 * Following the event log on PostgreSQL while writers commit concurrently.
 * Writers no longer serialise their commits, so seq values become visible out
 * of order; a follower that resumes from the last seq it received must still
 * get every event exactly once. Each test uses its own schema.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import type { LedgerEvent } from "../../src/core/types.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { PgTx } from "../../src/storage/postgres/tx.ts";
import { PG_URL, pgTestLedger, requirePostgres } from "../conformance/backends.ts";
import { sleep } from "../helpers/util.ts";

const available = await requirePostgres("follow");

/** A follower as watch and SSE are: poll, remember the last seq received, resume after it. */
class Follower {
  after = 0;
  readonly got: LedgerEvent[] = [];
  constructor(
    private readonly ledger: Ledger,
    private readonly project: string | undefined,
    private readonly limit: number,
  ) {}

  async poll(): Promise<number> {
    const events = await this.ledger.events({ ...(this.project ? { project: this.project } : {}), after: this.after, limit: this.limit });
    for (const e of events) {
      this.got.push(e);
      this.after = e.seq;
    }
    return events.length;
  }

  /**
   * Polls until `count` events have arrived. Delivery waits for every older
   * transaction on the server to end (other test runs share it), so this
   * bounds attempts, not time.
   */
  async until(count: number): Promise<void> {
    for (let i = 0; i < 2000 && this.got.length < count; i++) if ((await this.poll()) === 0) await sleep(10);
  }
}

const seqs = (events: readonly LedgerEvent[]) => events.map((e) => e.seq);

describe("following the event log on PostgreSQL", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let schema: string;
  let ledger: Ledger;
  let raw: pg.Pool;
  let close: () => Promise<void>;

  beforeEach(async () => ({ schema, ledger, raw, close } = await pgTestLedger("wl_follow", 4)));
  afterEach(() => close());

  /**
   * Two write transactions through the adapter's own Tx, committed by hand:
   * `late` writes its event first (the lower seq) but commits last. Which of
   * the two got its transaction id first is the other variable: a follower
   * reading `seq > after` misses the late event either way, and one that only
   * filters by `xid < xmin` misses it when the early committer has the lower id.
   */
  for (const earlyHasLowerXid of [true, false]) {
    const who = earlyHasLowerXid ? "early" : "late";
    it(`a follower polling between the commits gets both events when the lower seq commits last (${who} committer took its xid first)`, async () => {
      await ledger.createProject({ project: "p", agent: "t" });
      const early = await raw.connect();
      const late = await raw.connect();
      try {
        const begin = async (c: pg.PoolClient) => {
          await c.query("BEGIN ISOLATION LEVEL READ COMMITTED");
          await c.query("SELECT pg_current_xact_id()");
        };
        for (const c of earlyHasLowerXid ? [early, late] : [late, early]) await begin(c);
        const write = async (c: pg.PoolClient, agent: string): Promise<number> => {
          const tx = new PgTx(c, new Date().toISOString(), true, false);
          await tx.appendEvents([{ project: "p", wo: null, type: "context_put", agent, revision: null, at: tx.now(), data: { key: agent } }]);
          await tx.flush();
          return Number((await c.query<{ seq: string }>("SELECT seq FROM events WHERE agent = $1", [agent])).rows[0]!.seq);
        };
        const lateSeq = await write(late, "late");
        const earlySeq = await write(early, "early");
        assert.ok(lateSeq < earlySeq);
        await early.query("COMMIT");

        const follower = new Follower(ledger, "p", 100);
        await follower.poll(); // between the commits: the late event is not visible yet
        await late.query("COMMIT");
        await follower.until(2);
        assert.deepEqual(
          seqs(follower.got).sort((a, b) => a - b),
          [lateSeq, earlySeq],
          "each event exactly once",
        );
        // A follower starting from scratch now gets the same two, in the same order.
        const fresh = new Follower(ledger, undefined, 1);
        await fresh.until(2);
        assert.deepEqual(seqs(fresh.got), seqs(follower.got));
      } finally {
        await early.query("ROLLBACK").catch(() => undefined);
        await late.query("ROLLBACK").catch(() => undefined);
        early.release();
        late.release();
      }
    });
  }

  it("followers of all projects and of one project, polling while 4 processes' worth of writers commit, get every event exactly once", async () => {
    const writers = await Promise.all(Array.from({ length: 4 }, async () => new Ledger(await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 }))));
    const all = new Follower(ledger, undefined, 7);
    const one = new Follower(ledger, "w1", 3);
    let writing = true;
    const following = (async () => {
      while (writing) {
        await Promise.all([all.poll(), one.poll()]);
        await sleep(1);
      }
    })();
    try {
      await Promise.all(
        writers.map(async (w, i) => {
          const project = `w${i % 2}`;
          for (let n = 0; n < 15; n++) {
            const [wo] = await w.create({ project, agent: `a${i}`, items: [{ title: `t${i}.${n}` }] });
            const claimed = await w.claim({ project, agent: `a${i}`, id: wo!.id, ttl: "5m" });
            await w.update({ project, agent: `a${i}`, id: wo!.id, status: "done", lease_token: claimed.lease!.token });
          }
        }),
      );
    } finally {
      writing = false;
      await following;
      await Promise.all(writers.map((w) => w.close()));
    }
    const stored = (await raw.query<{ seq: string; project: string }>("SELECT seq, project FROM events ORDER BY seq")).rows;
    await all.until(stored.length);
    const inW1 = stored.filter((r) => r.project === "w1").map((r) => Number(r.seq));
    await one.until(inW1.length);
    assert.deepEqual(
      seqs(all.got).sort((a, b) => a - b),
      stored.map((r) => Number(r.seq)),
      "the all-projects follower got every event once",
    );
    assert.deepEqual(
      seqs(one.got).sort((a, b) => a - b),
      inW1,
      "the project follower got every event of its project once",
    );
    // Per WO, the stream keeps the order in which the changes happened.
    for (const wo of new Set(all.got.map((e) => `${e.project}/${e.wo}`))) {
      assert.deepEqual(
        all.got.filter((e) => `${e.project}/${e.wo}` === wo).map((e) => e.type),
        ["created", "claimed", "status_changed"],
        wo,
      );
    }
  });

  it("a follower starting from lastEventSeq sees only what is written afterwards", async () => {
    await ledger.create({ project: "p", agent: "a", items: [{ title: "before" }] });
    await new Follower(ledger, "p", 100).until(1); // settled, so it is behind "now"
    const follower = new Follower(ledger, "p", 100);
    follower.after = await ledger.lastEventSeq("p");
    await ledger.create({ project: "p", agent: "a", items: [{ title: "after" }] });
    await follower.until(1);
    await follower.poll();
    assert.deepEqual(
      follower.got.map((e) => e.wo),
      [2],
    );
  });
});
