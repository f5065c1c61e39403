/** A branch per WO (issue 26), once per back end: named at create, in every door's JSON, never renamed. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`a branch per work order on ${backend.name} (issue 26)`, () => {
    let l: LedgerApi;
    let cleanup: () => Promise<void>;
    const P = "gitty";
    const A = { project: P, agent: "alice" };
    const ADMIN = { project: P, agent: "root", role: "admin" as const };

    beforeEach(async () => {
      ({ ledger: l, cleanup } = await backend.open(clock()));
    });
    afterEach(async () => cleanup());

    it("is named when the WO is created, under the project's prefix, and keeps its name when the title changes", async () => {
      const [wo] = await l.create({ ...A, new_project: true, items: [{ title: "Fix tokenizer crash" }] });
      assert.equal(wo!.branch, "wo/1-fix-tokenizer-crash");
      await l.update({ ...A, id: 1, fields: { title: "Something else entirely" } });
      assert.equal((await l.get({ project: P, id: 1 })).branch, "wo/1-fix-tokenizer-crash");
      await rejects(l.setPolicy({ ...ADMIN, branch_prefix: "../x/" }), "VALIDATION", /branch_prefix: must be words/);
      await rejects(l.setPolicy({ project: P, agent: "alice", branch_prefix: "team/" }), "FORBIDDEN");
      assert.equal((await l.setPolicy({ ...ADMIN, branch_prefix: "team/wo-" })).policy.branch_prefix, "team/wo-");
      const [next] = await l.create({ ...A, items: [{ title: "Second" }] });
      assert.equal(next!.branch, "team/wo-2-second");
      assert.equal((await l.get({ project: P, id: 1 })).branch, "wo/1-fix-tokenizer-crash", "existing WOs keep theirs");
      await rejects(l.update({ ...A, id: 2, fields: { branch: "main" } as never }), "VALIDATION");
    });
  });
}

for (const backend of backends) {
  describe(`checkpoints and fencing to the merge on ${backend.name} (issue 26)`, () => {
    let l: LedgerApi;
    let cleanup: () => Promise<void>;
    let c: Clock;
    const P = "gitty";
    const A = { project: P, agent: "alice" };
    const B = { project: P, agent: "bob" };
    const SHA = (n: number) => String(n).repeat(40).slice(0, 40);
    const at = (ms: number) => new Date(Date.parse("2026-01-01T00:00:00.000Z") + ms).toISOString();

    beforeEach(async () => {
      c = clock();
      ({ ledger: l, cleanup } = await backend.open(c));
      await l.create({ ...A, new_project: true, items: [{ title: "Fix tokenizer crash" }] });
    });
    afterEach(async () => cleanup());

    it("holding and checkpoints answer only the live holder; get lists the checkpoints with commit, agent, token and time", async () => {
      await rejects(l.holding({ ...A, id: 1 }), "NOT_HOLDER");
      await l.claim({ ...A, id: 1, ttl: "1m" });
      const held = await l.holding({ ...A, id: 1 });
      assert.equal(held.lease.token, 1);
      assert.equal(held.branch, "wo/1-fix-tokenizer-crash");
      assert.deepEqual(held.checkpoints, []);
      await rejects(l.holding({ ...B, id: 1 }), "LEASE_HELD");
      await rejects(l.recordCheckpoint({ ...B, id: 1, commit: SHA(1), message: "not mine" }), "LEASE_HELD");
      const r = await l.recordCheckpoint({ ...A, id: 1, commit: SHA(1), message: "half done" });
      assert.deepEqual(r.checkpoint, { commit: SHA(1), agent: "alice", token: 1, at: at(0), message: "half done" });
      assert.equal(r.work_order.revision, 2, "a checkpoint changes no field: the revision stays");
      await rejects(l.recordCheckpoint({ ...A, id: 1, commit: "HEAD", message: "x" }), "VALIDATION", /full git commit id/);
      c.advance(61_000); // alice's lease lapses; bob takes over
      await rejects(l.holding({ ...A, id: 1 }), "LEASE_LOST");
      await rejects(l.recordCheckpoint({ ...A, id: 1, commit: SHA(2), message: "too late" }), "LEASE_LOST");
      await l.claim({ ...B, id: 1 });
      assert.deepEqual(
        (await l.holding({ ...B, id: 1 })).checkpoints.map((x) => x.commit),
        [SHA(1)],
        "the next holder starts from the last checkpoint",
      );
      await l.recordCheckpoint({ ...B, id: 1, commit: SHA(3), message: "finished" });
      const wo = await l.get({ project: P, id: 1 });
      assert.deepEqual(
        wo.checkpoints.map((x) => [x.commit, x.agent, x.token]),
        [
          [SHA(1), "alice", 1],
          [SHA(3), "bob", 2],
        ],
      );
      assert.equal((await l.history({ project: P, id: 1 })).filter((e) => e.type === "checkpoint").length, 2);
    });

    it("judges commits by the lease their trailers name: made while it was live, before it began, after it ended, or never issued", async () => {
      await l.claim({ ...A, id: 1, ttl: "1m" }); // at 0, lapses at 60s
      c.advance(120_000);
      await l.claim({ ...B, id: 1 }); // at 120s, lease 2
      await l.release({ ...B, id: 1 });
      c.advance(500);
      await l.claim({ ...B, id: 1 }); // at 120.5s, lease 3
      const v = await l.checkCommits({
        project: P,
        commits: [
          { commit: SHA(1), id: 1, token: 1, at: at(30_000) },
          { commit: SHA(2), id: 1, token: 1, at: at(90_000).replace("Z", "+00:00") },
          { commit: SHA(3), id: 1, token: 2, at: at(60_000) },
          { commit: SHA(4), id: 1, token: 3 },
          { commit: SHA(5), id: 1, token: 7, at: at(30_000) },
          { commit: SHA(6), id: 9, token: 1, at: at(30_000) },
          // Git keeps whole seconds: dated 00:02:00Z, made in [120s, 121s), so not before bob's lease (claimed at 120.5s).
          { commit: SHA(7), id: 1, token: 3, at: at(120_000) },
        ],
      });
      assert.deepEqual(
        v.map((x) => [x.commit, x.ok, x.problem ?? null]),
        [
          [SHA(1), true, null],
          [SHA(2), false, "after_lease"],
          [SHA(3), false, "before_lease"],
          [SHA(4), true, null],
          [SHA(5), false, "never_issued"],
          [SHA(6), false, "unknown_work_order"],
          [SHA(7), true, null],
        ],
      );
      assert.match(v[1]!.message, /after alice's lease 1 on WO-1 ended \(2026-01-01T00:01:00\.000Z, expired\); bob holds it now \(lease 3\)/);
      assert.deepEqual(v[1]!.holder, { agent: "bob", token: 3, expires_at: at(120_500 + 30 * 60_000) });
      await rejects(l.checkCommits({ project: P, commits: [] }), "VALIDATION", /at least one commit/);
      await rejects(l.checkCommits({ project: "nope", commits: [{ id: 1, token: 1 }] }), "NOT_FOUND");
    });
  });
}
