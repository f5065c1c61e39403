/** DESIGN.md §9 through the library API, once per back end: guarantees that hold for an agent that never passes a token. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`the lease follows the agent on ${backend.name} (issue 15)`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "proj";
    const A = { project: P, agent: "alice", role: "agent" as const };
    const B = { project: P, agent: "bob", role: "agent" as const };
    const result = (passed: boolean) => ({ passed, exit_code: passed ? 0 : 1, duration_ms: 10, output_tail: "", command: "npm test" });

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
      await l.create({ project: P, agent: "obs", items: [{ title: "x" }, { title: "y", verification: "npm test" }] });
    });
    afterEach(async () => cleanup());

    describe("a lapsed holder is fenced by name", () => {
      it("without a token: its renew, release, status change and field edit fail with LEASE_LOST saying it expired", async () => {
        await l.claim({ ...A, id: 1, ttl: "1s" });
        t.advance(2000);
        const writes = [
          () => l.renew({ ...A, id: 1 }),
          () => l.release({ ...A, id: 1, status: "done" }),
          () => l.update({ ...A, id: 1, status: "done" }),
          () => l.update({ ...A, id: 1, fields: { title: "stale edit" } }),
        ];
        for (const w of writes) {
          const e = await rejects(w(), "LEASE_LOST");
          assert.match(e.message, /your lease \(token 1\) expired at 2026-01-01T00:00:01\.000Z/);
        }
        const wo = await l.get({ project: P, id: 1 });
        assert.equal(wo.status, "open");
        assert.equal(wo.title, "x");
        // Its notes are fenced too (they would pass for the next holder's); others are not fenced.
        await rejects(l.addNote({ ...A, id: 1, body: "I was too slow" }), "LEASE_LOST");
        await l.addNote({ ...B, id: 1, body: "I will look at it" });
        await l.update({ project: P, agent: "obs", id: 1, fields: { title: "planned" } });
      });

      it("when another agent took it over, says who, with which token; claiming again lifts the fence", async () => {
        await l.claim({ ...A, id: 1, ttl: "1s" });
        t.advance(2000);
        await l.claim({ ...B, id: 1 });
        const e = await rejects(l.update({ ...A, id: 1, status: "done" }), "LEASE_LOST");
        assert.match(e.message, /bob holds it now \(token 2/);
        await rejects(l.claim({ ...B, agent: "carol", id: 1 }), "LEASE_HELD");
        await l.release({ ...B, id: 1 });
        const again = await l.claim({ ...A, id: 1 });
        assert.equal(again.lease?.token, 3);
        await l.update({ ...A, id: 1, fields: { title: "mine again" } });
      });

      it("after its own verify blocked the WO, release says the lease already ended, not 'claim it again'", async () => {
        await l.claim({ ...A, id: 2 });
        await l.recordVerification({ ...A, id: 2, ...result(false), block_on_fail: true });
        const e = await rejects(l.release({ ...A, id: 2, status: "blocked", note: "stuck" }), "LEASE_LOST");
        assert.match(e.message, /you ended your lease \(token 1\) .* by verify \(block_on_fail\); it is blocked now/);
        assert.match(e.hint ?? "", /already ended/);
        // A done WO is its record: not reopened by a lapsed holder, nor by the agent that finished it (an admin does).
        await l.claim({ ...A, id: 1, ttl: "1s" });
        t.advance(2000);
        await l.claim({ ...B, id: 1 });
        await l.release({ ...B, id: 1, status: "done" });
        await rejects(l.update({ ...A, id: 1, status: "open" }), "LEASE_LOST");
        await rejects(l.update({ ...B, id: 1, status: "open" }), "FORBIDDEN", /only an admin may reopen it/);
      });

      it("a wrong token while the caller holds the lease says it holds it under another token", async () => {
        await l.claim({ ...A, id: 1 });
        const e = await rejects(l.renew({ ...A, id: 1, lease_token: 7 }), "LEASE_LOST");
        assert.match(e.message, /token 7 is not the lease on WO-1: alice holds it under token 1/);
      });
    });

    describe("done means verified where the project says so", () => {
      it("without the setting, finishing without a verification warns and the event says unverified; after a failed one it is refused, whoever finishes", async () => {
        await l.claim({ ...A, id: 2 });
        await l.recordVerification({ ...A, id: 2, ...result(false) });
        const e = await rejects(l.release({ ...A, id: 2, status: "done" }), "VERIFICATION_REQUIRED");
        assert.match(e.message, /its verification FAILED in this attempt/);
        await l.release({ ...A, id: 2 });
        // Another agent that takes it over (and may have fixed it) verifies before done too (issue 23, sixth trials).
        await l.claim({ ...B, id: 2 });
        await rejects(l.release({ ...B, id: 2, status: "done" }), "VERIFICATION_REQUIRED");
        await l.recordVerification({ ...B, id: 2, ...result(true) });
        assert.equal((await l.release({ ...B, id: 2, status: "done" })).warnings, undefined);
        // A WO without a verification command is not verified by finishing it: it warns, and the event says unverified (DESIGN.md: done with no verification run warns).
        await l.claim({ ...A, id: 1 });
        assert.deepEqual((await l.update({ ...A, id: 1, status: "done" })).warnings, ["WO-1 is done without a passing verification: it has no verification command"]);
        const changed = (await l.history({ project: P, id: 1 })).filter((e) => e.type === "status_changed").at(-1);
        assert.equal(changed?.data.unverified, true);
      });

      it("with require_verification, done needs a pass under the current lease; a pass under an earlier lease does not count", async () => {
        await l.setPolicy({ project: P, agent: "root", role: "admin", require_verification: true });
        assert.equal((await l.projects({ project: P }))[0]?.policy.require_verification, true);
        await l.claim({ ...A, id: 2 });
        await rejects(l.release({ ...A, id: 2, status: "done" }), "VERIFICATION_REQUIRED");
        await l.recordVerification({ ...A, id: 2, ...result(true) });
        await l.release({ ...A, id: 2 });
        await l.claim({ ...A, id: 2 });
        const e = await rejects(l.update({ ...A, id: 2, status: "done" }), "VERIFICATION_REQUIRED");
        assert.match(e.message, /earlier lease/);
        await l.recordVerification({ ...A, id: 2, ...result(true) });
        const done = await l.release({ ...A, id: 2, status: "done" });
        assert.equal(done.status, "done");
        assert.equal(done.warnings, undefined);
      });

      it("an admin may finish unverified with a reason; an agent may not", async () => {
        await l.setPolicy({ project: P, agent: "root", role: "admin", require_verification: true });
        await l.claim({ ...B, id: 2 });
        await rejects(l.update({ ...B, id: 2, status: "done", unverified_reason: "trust me" }), "FORBIDDEN");
        await l.release({ ...B, id: 2 });
        const done = await l.update({ project: P, agent: "root", role: "admin", id: 2, status: "done", unverified_reason: "verified by hand on staging" });
        assert.equal(done.status, "done");
        const ev = (await l.history({ project: P, id: 2 })).find((e) => e.type === "status_changed");
        assert.equal(ev?.data.unverified_reason, "verified by hand on staging");
        assert.match((await l.get({ project: P, id: 2 })).notes.at(-1)?.body ?? "", /\(admin override by root\): verified by hand on staging/);
      });
    });

    describe("renewals", () => {
      it("max_hold caps how long renewals keep one lease, then MAX_HOLD_REACHED; the project default applies", async () => {
        const c = await l.claim({ ...A, id: 1, ttl: "10m", max_hold: "15m" });
        assert.equal(c.lease?.hold_until, new Date(t.now + 15 * 60_000).toISOString());
        t.advance(9 * 60_000);
        const r = await l.renew({ ...A, id: 1, ttl: "10m" });
        assert.equal(r.lease?.expires_at, c.lease?.hold_until, "the renewal stops at the cap");
        assert.match((r.warnings ?? []).join("\n"), /WO-1 is held until \S+ at most \(max_hold\): this renewal ends then/, "and says so (seventeenth trials)");
        await rejects(l.renew({ ...A, id: 1 }), "MAX_HOLD_REACHED");
        t.advance(7 * 60_000);
        const lost = await rejects(l.renew({ ...A, id: 1 }), "LEASE_LOST");
        assert.match(lost.message, /your lease \(token 1\) ended at \S+: it reached its hold cap \(max_hold\)/, "not 'expired' (session 19 known item)");
        const lapsed = (await l.history({ project: P, id: 1 })).find((e) => e.type === "expired");
        assert.equal(lapsed?.data.reason, "max_hold");
        await l.setPolicy({ project: P, agent: "root", role: "admin", max_hold: "1h" });
        const d = await l.claim({ ...B, id: 2 });
        assert.equal(d.lease?.hold_until, new Date(t.now + 3_600_000).toISOString());
        await l.create({ project: P, agent: "obs", items: [{ title: "next" }] });
        const n = await l.claim({ ...B, agent: "carol", next: true });
        assert.equal(n.lease?.hold_until, new Date(t.now + 3_600_000).toISOString(), "claim next applies the project's cap too");
        await l.setPolicy({ project: P, agent: "root", role: "admin", max_hold: "none" });
        assert.equal((await l.projects({ project: P }))[0]?.policy.max_hold_ms, null);
      });

      it("a keep-alive's renewal extends the lease with no event and no revision: the holder's compare-and-set still matches (issue 23, MCP trial)", async () => {
        const claimed = await l.claim({ ...A, id: 1, ttl: "1m" });
        const before = (await l.history({ project: P, id: 1 })).length;
        t.advance(20_000);
        const renewed = await l.renew({ ...A, id: 1, ttl: "1m", keepalive: true });
        assert.equal(renewed.revision, claimed.revision);
        assert.equal(renewed.lease?.expires_at, new Date(t.now + 60_000).toISOString());
        assert.equal(renewed.lease?.renewed_at, new Date(t.now).toISOString());
        assert.equal((await l.history({ project: P, id: 1 })).length, before);
        const edited = await l.update({ ...A, id: 1, fields: { scope: "narrower" }, if_revision: claimed.revision });
        assert.equal(edited.revision, claimed.revision + 1);
        assert.equal((await l.renew({ ...A, id: 1 })).revision, claimed.revision + 2, "a renewal asked for is a revision, with its event");
      });

      it("renewAll renews every live lease the caller holds in the project, and only those", async () => {
        await l.create({ project: P, agent: "obs", items: [{ title: "z" }] });
        await l.claim({ ...A, id: 1, ttl: "1m" });
        await l.claim({ ...A, id: 2, ttl: "1m" });
        await l.claim({ ...B, id: 3, ttl: "1m" });
        t.advance(30_000);
        const r = await l.renewAll({ ...A, ttl: "10m" });
        assert.deepEqual(r.renewed.map((w) => w.id).sort(), [1, 2]);
        assert.deepEqual(r.refused, []);
        assert.equal((await l.get({ project: P, id: 3 })).lease?.expires_at, new Date(t.now + 30_000).toISOString());
      });
    });

    describe("context per work order", () => {
      it("claim and get show the newest context linked to the WO, and say when the project's handover is newer", async () => {
        await l.claim({ ...A, id: 1 });
        await l.contextPut({ ...A, id: 1, key: "wo-1-notes", body: "half done: the parser is fixed, the tests are not" });
        await l.release({ ...A, id: 1 });
        await l.contextPut({ project: P, agent: "obs", id: 2, body: "about WO-2" });
        t.advance(1000);
        await l.contextPut({ ...B, body: "project-wide handover about something else" });
        const c = await l.claim({ ...B, id: 1 });
        assert.equal(c.context.linked?.body, "half done: the parser is fixed, the tests are not");
        assert.equal(c.context.linked?.agent, "alice");
        assert.equal(c.context.newer_handover?.agent, "bob", "a later project handover is pointed at");
        const g = await l.get({ project: P, id: 2 });
        assert.equal(g.context.linked?.body, "about WO-2");
        assert.equal(g.context.newer_handover?.agent, "bob");
        assert.deepEqual(
          (await l.contextPull({ project: P, id: 1 })).entries.map((e) => e.key),
          ["wo-1-notes"],
        );
        const all = await l.contextHistory({ project: P, history: true, id: 2 });
        assert.deepEqual(
          all.entries.map((e) => e.body),
          ["about WO-2"],
        );
        assert.equal(all.verdict, "fresh", "history has the same shape as a pull");
      });
    });

    describe("batch references", () => {
      it("an item may depend on an earlier item of its batch as #N; a later or missing one is refused and nothing is written", async () => {
        const made = await l.create({ ...A, items: [{ title: "schema" }, { title: "api", depends_on: ["#1"] }, { title: "ui", depends_on: ["#2", 1] }] });
        assert.deepEqual(
          made.map((w) => w.depends_on),
          [[], [3], [4, 1]],
        );
        const e = await rejects(l.create({ ...A, items: [{ title: "a", depends_on: ["#2"] }, { title: "b" }] }), "VALIDATION");
        assert.match(e.message, /items\[0\]\.depends_on: #2 is not an earlier item of this batch/);
        await rejects(l.create({ ...A, items: [{ title: "a", depends_on: ["#x"] }] }), "VALIDATION");
        assert.equal((await l.list({ project: P, status: "all" })).length, 5);
        assert.deepEqual(
          (await l.findUnclaimed({ project: P })).map((w) => w.title),
          ["x", "y", "schema"],
        );
      });
    });

    describe("nothing ambiguous is guessed", () => {
      it("a write to a near miss of an existing project is refused with a suggestion, unless new_project says it is meant", async () => {
        await l.create({ project: "shop", agent: "obs", items: [{ title: "a" }] });
        const e = await rejects(l.create({ project: "shopp", agent: "obs", items: [{ title: "b" }] }), "NOT_FOUND");
        assert.match(e.message, /project shopp does not exist; did you mean shop\?/);
        await rejects(l.contextPut({ project: "shops", agent: "obs", body: "x" }), "NOT_FOUND");
        assert.match((await rejects(l.list({ project: "shopp" }), "NOT_FOUND")).message, /did you mean shop\?/);
        assert.deepEqual(
          (await l.projects()).map((p) => p.name),
          [P, "shop"],
          "nothing was created",
        );
        await l.create({ project: "shopp", agent: "obs", items: [{ title: "b" }], new_project: true });
        await l.contextPut({ project: "chainwatch", agent: "obs", body: "a new name far from any other is created by its first write" });
      });

      it("history limited without a cursor returns the newest events, oldest first", async () => {
        await l.claim({ ...A, id: 1 });
        await l.addNote({ ...A, id: 1, body: "n" });
        await l.release({ ...A, id: 1 });
        assert.deepEqual(
          (await l.history({ project: P, id: 1, limit: 2 })).map((e) => e.type),
          ["note_added", "released"],
        );
        const all = await l.history({ project: P, id: 1 });
        assert.deepEqual(
          (await l.history({ project: P, id: 1, after: all[0]!.seq, limit: 1 })).map((e) => e.type),
          ["claimed"],
        );
      });

      it("claim next refuses WOs find_unclaimed lists with file_conflicts, naming them", async () => {
        await l.create({
          project: P,
          agent: "obs",
          items: [
            { title: "held", files: ["src/**"] },
            { title: "same files", files: ["src/a.ts"] },
          ],
        });
        await l.claim({ ...A, id: 1 });
        await l.claim({ ...A, id: 2 });
        await l.claim({ ...A, id: 3 });
        const listed = await l.findUnclaimed({ project: P });
        assert.deepEqual(
          listed.map((w) => [w.id, w.file_conflicts.length]),
          [[4, 1]],
        );
        const e = await rejects(l.claim({ ...B, next: true }), "NOTHING_TO_CLAIM");
        assert.match(e.message, /WO-4 touches files that held work orders hold/);
        assert.deepEqual(e.details?.touching_held_files, [4]);
      });
    });

    it("refuses a duration without a unit with a suggestion", async () => {
      const e = await rejects(l.claim({ ...A, id: 1, ttl: "30" }), "VALIDATION");
      assert.match(e.message, /ttl: needs a unit: did you mean 30s or 30m\?/);
    });
  });
}
