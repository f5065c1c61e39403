/** What needs a human, the agent roster and flow over time (issue 28), through the library API once per back end (SQLite, PostgreSQL, over HTTP). */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { LedgerApi } from "../../src/core/api.ts";
import { rejects } from "../helpers/rejects.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`needs a human, and who is at work, on ${backend.name} (issue 28)`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "fleet";
    const ADMIN = { project: P, agent: "boss", role: "admin" as const };
    const as = (agent: string) => ({ project: P, agent });
    const result = (passed: boolean) => ({ passed, exit_code: passed ? 0 : 1, duration_ms: 5, output_tail: "", command: "npm test" });

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
      await l.create({
        ...as("planner"),
        new_project: true,
        items: [{ title: "blocked one" }, { title: "capped", max_attempts: 1 }, { title: "failing", verification: "npm test" }, { title: "lapses" }, { title: "fine" }],
      });
    });
    afterEach(async () => cleanup());

    it("an empty project needs nothing; an unknown one is NOT_FOUND", async () => {
      assert.deepEqual((await l.attention({ project: P })).items, []);
      await rejects(l.attention({ project: "nope" }), "NOT_FOUND");
      await rejects(l.agents({ project: "nope" }), "NOT_FOUND");
    });

    it("lists dead-lettered and blocked work, failed verifications, agents that lose leases repeatedly, and refused writes, the most urgent first", async () => {
      await l.claim({ ...as("bob"), id: 1 });
      await l.release({ ...as("bob"), id: 1, status: "blocked", note: "needs the staging password" });
      await l.claim({ ...as("bob"), id: 2 });
      await l.release({ ...as("bob"), id: 2 }); // its one attempt used: dead-lettered
      await l.claim({ ...as("carol"), id: 3 });
      await l.recordVerification({ ...as("carol"), id: 3, ...result(false) });
      for (let i = 0; i < 2; i++) {
        await l.claim({ ...as("dave"), id: 4, ttl: "1m" });
        t.advance(61_000);
        await l.claim({ ...as("erin"), id: 5 }); // records the expiry
        await l.release({ ...as("erin"), id: 5 });
      }
      await rejects(l.addNote({ ...as("dave"), id: 4, body: "still on it" }), "LEASE_LOST");
      const a = await l.attention({ project: P });
      assert.deepEqual(
        a.items.map((i) => [i.kind, i.id, i.agent, i.action]),
        [
          ["dead_letter", 2, null, "raise_cap"],
          ["verification_failed", 3, "carol", "look"],
          ["blocked", 1, "bob", "reopen"],
          ["lease_losses", null, "dave", "look"],
          ["write_refused", 4, "dave", "look"],
        ],
      );
      assert.equal(a.items[2]!.detail, "needs the staging password");
      assert.match(a.items[3]!.detail, /dave lost 2 leases \(WO-4\)/);
      // Fixed, it leaves the list: a pass answers the failure, an admin reopens the blocked one.
      await l.recordVerification({ ...as("carol"), id: 3, ...result(true) });
      await l.update({ ...ADMIN, id: 1, status: "open" });
      assert.deepEqual(
        (await l.attention({ project: P })).items.map((i) => i.kind),
        ["dead_letter", "lease_losses", "write_refused"],
      );
      // Older than the window, events no longer count.
      t.advance(8 * 86_400_000);
      assert.deepEqual(
        (await l.attention({ project: P })).items.map((i) => i.kind),
        ["dead_letter"],
      );
    });

    it("the roster: each agent's last activity, leases held now, attempts, done, lost and spend; silent past its TTL with nothing held, gone", async () => {
      await l.claim({ ...as("bob"), id: 1, ttl: "10m" });
      await l.spend({ ...as("bob"), id: 1, cost_usd: 0.25 });
      await l.claim({ ...as("carol"), id: 5, ttl: "2m" });
      await l.release({ ...as("carol"), id: 5, status: "done" });
      t.advance(3 * 60_000);
      const r = await l.agents({ project: P });
      const row = (agent: string) => r.agents.find((a) => a.agent === agent)!;
      assert.deepEqual(
        row("bob").holding.map((h) => h.id),
        [1],
      );
      assert.deepEqual([row("bob").attempts, row("bob").spend_usd, row("bob").gone], [1, 0.25, false]);
      assert.deepEqual([row("carol").attempts, row("carol").done, row("carol").gone], [1, 1, true], "silent for longer than its 2m claim");
      assert.equal(row("planner").gone, false, "it never claimed: the default TTL (30m) applies");
      t.advance(30 * 60_000);
      const later = await l.agents({ project: P, since: "7d" });
      const again = (agent: string) => later.agents.find((a) => a.agent === agent)!;
      assert.deepEqual([again("planner").gone, again("bob").gone, again("bob").lost, again("bob").holding], [true, true, 1, []]);
      assert.deepEqual((await l.agents({ project: P, since: "1m" })).agents, [], "nobody acted in the last minute");
    });

    it("flow: created, claimed, done and expired per interval, the queue at each interval's end (replayed from before the window), lead time and spend by agent and phase", async () => {
      const H = 3_600_000;
      const open = async () => (await l.list({ project: P, status: "open" })).length;
      const queueAtEnd: number[] = [];
      // Hour 0 (the five WOs were created at its start): two claims, one of which lapses.
      await l.claim({ ...as("bob"), id: 1, ttl: "30m" });
      await l.claim({ ...as("carol"), id: 2, ttl: "2h" });
      await l.spend({ ...as("carol"), id: 2, phase: "execute", cost_usd: 0.5, tokens_in: 100, tokens_out: 20 });
      t.advance(H - 60_000);
      queueAtEnd.push(await open()); // records bob's expiry
      // Hour 1: one done, one blocked.
      t.advance(2 * 60_000);
      await l.release({ ...as("carol"), id: 2, status: "done" });
      await l.claim({ ...as("dave"), id: 3 });
      await l.release({ ...as("dave"), id: 3, status: "blocked", note: "waits" });
      t.advance(H - 2 * 60_000);
      queueAtEnd.push(await open());
      // Hour 2: a new WO, a claim.
      t.advance(60_000);
      await l.create({ ...as("planner"), items: [{ title: "late" }] });
      await l.claim({ ...as("erin"), id: 4, ttl: "2h" });
      t.advance(H - 60_000 - 1);
      queueAtEnd.push(await open());
      t.advance(1);

      const f = await l.flow({ project: P, since: "3h", buckets: 3 });
      assert.equal(f.interval_ms, H);
      assert.deepEqual(
        f.points.map((p) => [p.created, p.claimed, p.done, p.expired, p.queue]),
        [
          [5, 2, 0, 1, 4],
          [0, 1, 1, 0, 3],
          [1, 1, 0, 0, 3],
        ],
      );
      assert.deepEqual(
        f.points.map((p) => p.queue),
        queueAtEnd,
        "the queue's depth is what list said at each interval's end",
      );
      assert.equal(f.queue_at_start, 0);
      assert.deepEqual(f.done, { count: 1, median_ms: H + 60_000, p90_ms: H + 60_000 });
      assert.deepEqual(f.spend, [{ agent: "carol", phase: "execute", usd: 0.5, tokens: 120 }]);
      assert.equal(f.truncated, false);
      // A window that starts later replays the statuses from before it.
      const later = await l.flow({ project: P, since: "2h", buckets: 2 });
      assert.equal(later.queue_at_start, queueAtEnd[0]);
      assert.deepEqual(
        later.points.map((p) => p.queue),
        queueAtEnd.slice(1),
      );
      await rejects(l.flow({ project: P, buckets: 0 }), "VALIDATION");
      await rejects(l.flow({ project: "nope" }), "NOT_FOUND");
    });
  });
}
