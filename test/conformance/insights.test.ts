/** What needs a human, and the agent roster (issue 28), through the library API once per back end (SQLite, PostgreSQL, over HTTP). */
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
  });
}
