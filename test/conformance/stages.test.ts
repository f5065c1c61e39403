/** Stages and capabilities (issue 25) through the library API, once per back end (SQLite, PostgreSQL, over HTTP). */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`stages and capabilities on ${backend.name} (issue 25)`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "pipe";
    const tri = { project: P, agent: "triager" };
    const enricher = { project: P, agent: "enricher" };
    const coder = { project: P, agent: "coder" };
    /** What each declares when it claims (updates and releases take no capabilities). */
    const ENRICH = { can: ["enrich"] };
    const CODE = { can: ["code"] };
    const ADMIN = { project: P, agent: "boss", role: "admin" as const };
    const ids = (wos: { id: number }[]) => wos.map((w) => w.id);

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
      await l.createProject({ project: P, agent: "boss" });
    });
    afterEach(async () => cleanup());

    it("a project without stages: work has none, and asking for one says the project has none", async () => {
      const [wo] = await l.create({ ...tri, items: [{ title: "plain" }] });
      assert.equal(wo!.stage, null);
      await rejects(l.create({ ...tri, items: [{ title: "x", stage: "ready" }] }), "VALIDATION", /stage: project pipe has no stages/);
      await rejects(l.findUnclaimed({ project: P, stage: "ready" }), "VALIDATION", /has no stages/);
      assert.equal((await l.claim({ ...coder, ...CODE, next: true })).id, wo!.id);
    });

    it("only an admin sets stages; new work starts in the first, or where it is put; an unknown stage names the real ones", async () => {
      await rejects(l.setPolicy({ project: P, agent: "triager", stages: ["enrich", "ready"] }), "FORBIDDEN");
      const p = await l.setPolicy({ ...ADMIN, stages: ["enrich", "ready"] });
      assert.deepEqual(p.policy.stages, ["enrich", "ready"]);
      const made = await l.create({ ...tri, items: [{ title: "rough" }, { title: "clear", stage: "ready" }] });
      assert.deepEqual(
        made.map((w) => w.stage),
        ["enrich", "ready"],
      );
      await rejects(l.create({ ...tri, items: [{ title: "a" }, { title: "b", stage: "redy" }] }), "VALIDATION", /items\[1\]\.stage: .*its stages are enrich, ready/);
      await rejects(l.setPolicy({ ...ADMIN, stages: ["a", "a"] }), "VALIDATION", /must not repeat a stage/);
    });

    it("find-unclaimed and claim --next take a stage and any of some labels, still most urgent first", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["enrich", "ready"] });
      await l.create({
        ...tri,
        items: [
          { title: "enrich me", priority: "P0" },
          { title: "ready, ui", stage: "ready", labels: ["ui"], priority: "P0" },
          { title: "ready, api, old", stage: "ready", labels: ["api"], priority: "P2" },
          { title: "ready, api, urgent", stage: "ready", labels: ["api", "db"], priority: "P1" },
        ],
      });
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, stage: "ready" })), [2, 4, 3]);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, stage: "ready", labels: ["api"] })), [4, 3]);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, labels: ["ui", "db"] })), [2, 4]);
      await rejects(l.findUnclaimed({ project: P, stage: "review" }), "VALIDATION", /its stages are enrich, ready/);
      assert.equal((await l.claim({ ...coder, ...CODE, next: true, stage: "ready", labels: ["api"] })).id, 4);
      assert.equal((await l.claim({ ...enricher, ...ENRICH, next: true, stage: "enrich" })).id, 1);
      await rejects(l.claim({ ...enricher, ...ENRICH, next: true, stage: "enrich" }), "NOTHING_TO_CLAIM", /in stage enrich that fits your capabilities \(enrich\)/);
      await rejects(l.claim({ ...enricher, ...ENRICH, next: true, stage: "review" }), "VALIDATION", /no stage "review"/);
      // By id, a stage or labels given must hold (the MCP trial's stage=build took a WO in spec).
      await rejects(l.claim({ ...coder, ...CODE, id: 2, stage: "enrich" }), "VALIDATION", /WO-2 is not what was asked for: it is in stage ready with labels ui/);
      await rejects(l.claim({ ...coder, ...CODE, id: 2, labels: ["api"] }), "VALIDATION");
      assert.equal((await l.claim({ ...coder, ...CODE, id: 2, stage: "ready", labels: ["ui", "x"] })).id, 2);
    });

    it("the holder hands work on to the next stage: its attempt ends handed_on, the next stage's agents find it, the event says from where to where", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["enrich", "ready"] });
      await l.create({ ...tri, items: [{ title: "rough" }, { title: "rough 2" }] });
      await l.claim({ ...enricher, ...ENRICH, id: 1 });
      const moved = await l.update({ ...enricher, id: 1, stage: "ready", fields: { acceptance: ["sharp"] } });
      assert.deepEqual([moved.status, moved.stage, moved.lease, moved.acceptance], ["open", "ready", null, ["sharp"]]);
      await l.claim({ ...enricher, ...ENRICH, id: 2 });
      const released = await l.release({ ...enricher, id: 2, stage: "ready" });
      assert.deepEqual([released.status, released.stage], ["open", "ready"]);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, stage: "ready" })), [1, 2]);
      const events = await l.history({ project: P, id: 1 });
      const updated = events.find((e) => e.type === "updated")!;
      assert.deepEqual((updated.data.changes as Record<string, unknown>).stage, { from: "enrich", to: "ready" });
      const ended = events.find((e) => e.type === "status_changed")!;
      assert.deepEqual([ended.data.lease_ended, ended.data.outcome, ended.data.to], [true, "handed_on", "open"]);
      const rel = (await l.history({ project: P, id: 2 })).find((e) => e.type === "released")!;
      assert.deepEqual([rel.data.stage, rel.data.outcome], [{ from: "enrich", to: "ready" }, "handed_on"]);
      assert.deepEqual(
        (await l.attempts({ project: P, id: 1 })).map((a) => [a.agent, a.outcome]),
        [["enricher", "handed_on"]],
        "a hand-off is its own outcome, not a give-up release",
      );
      // Moving to the stage it is in changes nothing and keeps the lease.
      await l.claim({ ...coder, ...CODE, id: 1 });
      assert.equal((await l.update({ ...coder, id: 1, stage: "ready" })).status, "claimed");
    });

    it("only the holder moves work between stages; an admin may, and so may the creator of work never claimed", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["enrich", "ready"] });
      await l.create({ ...tri, items: [{ title: "a" }, { title: "b" }] });
      await rejects(l.update({ ...coder, id: 1, stage: "ready" }), "NOT_HOLDER", /may not move WO-1 to stage ready without a lease/);
      assert.equal((await l.update({ ...tri, id: 1, stage: "ready" })).stage, "ready");
      assert.equal((await l.update({ ...ADMIN, id: 2, stage: "ready" })).stage, "ready");
      await l.claim({ ...enricher, ...ENRICH, id: 2 });
      await rejects(l.update({ ...ADMIN, id: 2, stage: "nope" }), "VALIDATION", /its stages are enrich, ready/);
      await rejects(l.release({ ...coder, id: 2, stage: "enrich" }), "LEASE_HELD");
    });

    it("work moves on one stage at a time (or back to any earlier one), by its holder; an admin moves it anywhere (seventh trials)", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["enrich", "build", "review", "ship"], done_stage: "ship" });
      await l.create({ ...tri, items: [{ title: "a" }] });
      await l.claim({ ...enricher, ...ENRICH, id: 1 });
      await rejects(l.release({ ...enricher, id: 1, stage: "ship" }), "ILLEGAL_TRANSITION", /is in stage enrich: it moves on to build next, not to ship/);
      await l.release({ ...enricher, id: 1 });
      // Its last releaser may still edit it, but handing it on is the holder's act.
      await rejects(l.update({ ...enricher, id: 1, stage: "build" }), "NOT_HOLDER", /only its holder hands it on/);
      await l.claim({ ...enricher, ...ENRICH, id: 1 });
      await l.release({ ...enricher, id: 1, stage: "build" });
      await l.claim({ ...coder, ...CODE, id: 1 });
      assert.equal((await l.release({ ...coder, id: 1, stage: "enrich" })).stage, "enrich", "back to any earlier stage");
      assert.equal((await l.update({ ...ADMIN, id: 1, stage: "review" })).stage, "review", "an admin moves it anywhere");
      await rejects(l.claim({ ...coder, ...CODE, next: true, any: true }), "VALIDATION", /any: only with an id/);
    });

    it("a project that names a done stage refuses done from any other", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["implement", "review"], done_stage: "review" });
      await rejects(l.setPolicy({ ...ADMIN, done_stage: "shipped" }), "VALIDATION", /done_stage: .*its stages are implement, review/);
      await l.create({ ...tri, items: [{ title: "feature" }] });
      await l.claim({ ...coder, ...CODE, id: 1 });
      await rejects(l.release({ ...coder, id: 1, status: "done" }), "ILLEGAL_TRANSITION", /cannot be done in stage implement: project pipe finishes work only from stage review/);
      assert.equal((await l.get({ project: P, id: 1 })).lease?.agent, "coder", "a refused finish keeps the lease");
      await l.release({ ...coder, id: 1, stage: "review" });
      await l.claim({ project: P, agent: "reviewer", id: 1 });
      const done = await l.release({ project: P, agent: "reviewer", id: 1, status: "done" });
      assert.deepEqual([done.status, done.stage], ["done", "review"]);
      await rejects(l.update({ ...ADMIN, id: 1, stage: "implement" }), "ILLEGAL_TRANSITION", /is done: it has no stage to move on to/);
      // Handing on to the done stage and finishing is two agents' work, not one step, and not the hander's after it (issue 23, sixth trials).
      await l.create({ ...tri, items: [{ title: "small" }] });
      await l.claim({ ...coder, ...CODE, id: 2 });
      await rejects(l.update({ ...coder, id: 2, stage: "review", status: "done" }), "ILLEGAL_TRANSITION", /cannot be done in stage implement/);
      await rejects(l.release({ ...coder, id: 2, stage: "review", status: "done" }), "ILLEGAL_TRANSITION");
      await l.release({ ...coder, id: 2, stage: "review" });
      const e = await rejects(
        l.update({ ...coder, id: 2, status: "done" }),
        "NOT_HOLDER",
        /coder handed it on to its stage.s agents, so only whoever claims it next, or an admin may/,
      );
      assert.match(e.hintTemplate ?? "", /claim/);
      await rejects(l.update({ ...coder, id: 2, fields: { title: "renamed after handing on" } }), "NOT_HOLDER");
      await l.contextPut({ ...coder, id: 2, body: "what the reviewer should look at" });
    });

    it("a stage that still holds unfinished work cannot be dropped; stages can be removed once empty", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["triage", "ready"] });
      await l.create({ ...tri, items: [{ title: "a" }] });
      await rejects(l.setPolicy({ ...ADMIN, stages: ["ready"] }), "VALIDATION", /stages: triage still hold unfinished work orders \(1 in triage\)/);
      await l.update({ ...ADMIN, id: 1, stage: "ready" });
      assert.deepEqual((await l.setPolicy({ ...ADMIN, stages: ["ready"] })).policy.stages, ["ready"]);
      await l.update({ ...ADMIN, id: 1, status: "cancelled" });
      assert.deepEqual((await l.setPolicy({ ...ADMIN, stages: [] })).policy.stages, []);
      assert.equal((await l.create({ ...tri, items: [{ title: "b" }] }))[0]!.stage, null);
    });

    it("report says whether enrichment pays: first-attempt success, attempts and execute spend per done WO, enriched or not, per model", async () => {
      await l.setPolicy({ ...ADMIN, stages: ["enrich", "ready"] });
      await l.create({ ...tri, items: [{ title: "enriched" }, { title: "rough", stage: "ready" }] });
      // WO-1: enriched (its hand-off is not a try), then done at the first try.
      await l.claim({ ...enricher, ...ENRICH, id: 1 });
      await l.spend({ ...enricher, id: 1, phase: "enrich", model: "opus", cost_usd: 0.5 });
      await l.release({ ...enricher, id: 1, stage: "ready" });
      await l.claim({ ...coder, ...CODE, id: 1 });
      await l.spend({ ...coder, id: 1, phase: "execute", model: "haiku", cost_usd: 1 });
      await l.release({ ...coder, id: 1, status: "done" });
      // WO-2: not enriched, given up once, done at the second try.
      await l.claim({ ...coder, ...CODE, id: 2 });
      await l.spend({ ...coder, id: 2, phase: "execute", model: "haiku", cost_usd: 2 });
      await l.release({ ...coder, id: 2, status: "blocked", note: "unclear what done means" });
      await l.claim({ ...coder, ...CODE, id: 2 });
      await l.spend({ ...coder, id: 2, phase: "execute", model: "haiku", cost_usd: 3 });
      await l.release({ ...coder, id: 2, status: "done" });
      const r = await l.report({ project: P });
      const figures = (x: typeof r.totals) => [x.key, x.done_wos, x.first_attempt_done, x.attempts_per_done_wo, x.execute_cost_per_done_wo, x.cost_per_done_wo];
      assert.deepEqual(figures(r.enrichment.with_enrich), ["with enrich", 1, 1, 2, 1, 1.5]);
      assert.deepEqual(figures(r.enrichment.without_enrich), ["without enrich", 1, 0, 2, 5, 5]);
      assert.deepEqual(
        r.enrichment.by_model.map((x) => [x.key, x.done_wos, x.execute_cost_per_done_wo]),
        [
          ["haiku, with enrich", 1, 1],
          ["haiku, without enrich", 1, 5],
        ],
      );
      assert.equal(r.totals.outcomes.handed_on, 1);
    });

    it("a keep-alive's renewal for an agent idle past the project's limit ends the lease, saying why; under it, or with no limit, it renews", async () => {
      await rejects(l.setPolicy({ ...ADMIN, idle_limit: "20" }), "VALIDATION", /needs a unit/);
      assert.equal((await l.projects({ project: P }))[0]?.policy.idle_limit_ms, 20 * 60_000, "20 minutes unless an admin says otherwise");
      await l.setPolicy({ ...ADMIN, idle_limit: "5m" });
      await l.create({ ...tri, items: [{ title: "a" }, { title: "b" }] });
      await l.claim({ ...coder, id: 1, ttl: "1m" });
      t.advance(20_000);
      const kept = await l.renew({ ...coder, id: 1, keepalive: true, idle_ms: 299_000 });
      assert.deepEqual([kept.ended, kept.lease?.agent], [undefined, "coder"]);
      const ended = await l.renew({ ...coder, id: 1, keepalive: true, idle_ms: 301_000 });
      assert.deepEqual([ended.ended, ended.lease, ended.status], [{ reason: "idle", idle_ms: 301_000, idle_limit_ms: 300_000 }, null, "open"]);
      const expired = (await l.history({ project: P, id: 1 })).find((e) => e.type === "expired")!;
      assert.deepEqual([expired.data.reason, expired.data.idle_ms, expired.agent], ["idle", 301_000, "coder"]);
      assert.deepEqual(
        (await l.attempts({ project: P, id: 1 })).map((a) => a.outcome),
        ["expired"],
      );
      // Round 12: the later refusal says idleness ended it, not just "expired".
      await rejects(l.addNote({ ...coder, id: 1, body: "back" }), "LEASE_LOST", /idle for longer than the project's idle limit/);
      await rejects(l.release({ ...coder, id: 1, status: "done" }), "LEASE_LOST", /idle for longer/);
      assert.equal((await l.claim({ project: P, agent: "other", id: 1 })).lease?.agent, "other");
      // Only a keep-alive's renewal is judged, and only where the project has a limit.
      await l.claim({ ...coder, id: 2, ttl: "1m" });
      assert.equal((await l.renew({ ...coder, id: 2, idle_ms: 999_999 })).ended, undefined);
      await l.setPolicy({ ...ADMIN, idle_limit: "none" });
      assert.equal((await l.renew({ ...coder, id: 2, keepalive: true, idle_ms: 999_999_999 })).ended, undefined);
    });

    it("work that requires capabilities goes only to agents that declare them, unless one says it knows (any)", async () => {
      await l.create({
        ...tri,
        items: [
          { title: "migration", requires: ["db"], priority: "P0" },
          { title: "docs", priority: "P1" },
          { title: "schema and code", requires: ["db", "code"], priority: "P0" },
        ],
      });
      assert.deepEqual(ids(await l.findUnclaimed({ project: P })), [2]);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, can: ["db"] })), [1, 2]);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, can: ["code", "db"] })), [1, 3, 2]);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, any: true })), [1, 3, 2]);
      await rejects(l.claim({ ...coder, ...CODE, id: 1 }), "CAPABILITY_MISSING", /WO-1 requires db; you declared code, so db is missing/);
      await rejects(l.claim({ project: P, agent: "plain", id: 3 }), "CAPABILITY_MISSING", /you declared no capabilities/);
      assert.equal((await l.claim({ ...coder, ...CODE, next: true })).id, 2, "claim --next skips what it cannot do");
      const e = await rejects(l.claim({ ...coder, ...CODE, next: true }), "NOTHING_TO_CLAIM", /fits your capabilities \(code\)/);
      assert.deepEqual(e.details?.needs_capabilities, { id: 1, requires: ["db"] });
      assert.equal((await l.claim({ project: P, agent: "dba", can: ["db", "code"], next: true })).id, 1);
      assert.equal((await l.claim({ ...coder, ...CODE, id: 3, any: true })).lease?.agent, "coder");
      // Requirements are a field like any other: an enricher sharpens them while it holds the work.
      await l.create({ ...tri, items: [{ title: "later" }] });
      await l.claim({ ...enricher, ...ENRICH, id: 4 });
      assert.deepEqual((await l.update({ ...enricher, id: 4, fields: { requires: ["code"] } })).requires, ["code"]);
      await l.release({ ...enricher, id: 4 });
      assert.deepEqual(ids(await l.findUnclaimed({ project: P })), []);
      assert.deepEqual(ids(await l.findUnclaimed({ project: P, can: ["code"] })), [4]);
    });
  });
}
