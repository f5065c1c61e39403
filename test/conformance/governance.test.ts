/** DESIGN.md §10 through the library API, once per back end: attempts, spend, budgets and dead-letter, reports (issue 16). */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`resource governance on ${backend.name} (issue 16)`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "gov";
    const A = { project: P, agent: "alice", role: "agent" as const };
    const B = { project: P, agent: "bob", role: "agent" as const };
    const ADMIN = { project: P, agent: "boss", role: "admin" as const };

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
      await l.create({
        project: P,
        agent: "obs",
        items: [
          { title: "capped", max_attempts: 2, max_usd: 1 },
          { title: "free", labels: ["ui"] },
        ],
      });
    });
    afterEach(async () => cleanup());

    it("each claim opens an attempt; how it ended is recorded with its outcome, in the attempt and the event log", async () => {
      await l.claim({ ...A, id: 2, ttl: "1s" });
      t.advance(2000);
      await l.claim({ ...B, id: 2 });
      t.advance(500);
      await l.release({ ...B, id: 2 });
      await l.claim({ ...A, id: 2 });
      await l.release({ ...A, id: 2, status: "blocked", note: "needs a key" });
      await l.claim({ ...B, id: 2 });
      await l.update({ ...B, id: 2, status: "done" });
      const attempts = await l.attempts({ project: P, id: 2 });
      assert.deepEqual(
        attempts.map((a) => [a.token, a.agent, a.outcome, a.duration_ms]),
        [
          [1, "alice", "expired", 1000],
          [2, "bob", "released", 500],
          [3, "alice", "blocked", 0],
          [4, "bob", "done", 0],
        ],
      );
      assert.equal(attempts[0]!.started_at, "2026-01-01T00:00:00.000Z");
      assert.equal(attempts[0]!.ended_at, "2026-01-01T00:00:01.000Z");
      const wo = await l.get({ project: P, id: 2 });
      assert.equal(wo.attempts, 4);
      const outcomes = (await l.history({ project: P, id: 2 })).filter((e) => e.data.outcome).map((e) => `${e.type}:${String(e.data.outcome)}`);
      assert.deepEqual(outcomes, ["expired:expired", "released:released", "released:blocked", "status_changed:done"]);
      t.advance(100);
      const running = await l.claim({ ...A, id: 1 });
      assert.equal(running.attempts, 1);
      const [open] = await l.attempts({ project: P, id: 1 });
      assert.deepEqual([open!.outcome, open!.ended_at, open!.duration_ms], [null, null, null]);
      // The project's attempts, by agent.
      assert.deepEqual(
        (await l.attempts({ project: P, agent: "alice" })).map((a) => [a.wo, a.token]),
        [
          [2, 1],
          [2, 3],
          [1, 1],
        ],
      );
    });

    it("spend is recorded against the caller's attempt, priced from the model, totalled on the WO; after the lease ended it still counts", async () => {
      await l.claim({ ...A, id: 2 });
      const r = await l.spend({ ...A, id: 2, model: "claude-sonnet-4-5-20250929", phase: "enrich", tokens_in: 100_000, cache_read_tokens: 50_000, tokens_out: 2_000 });
      // 50k plain input at $3/M, 50k cache reads at $0.30/M, 2k output at $15/M
      assert.equal(r.spend?.cost_usd, 0.195);
      assert.deepEqual([r.spend?.token, r.spend?.phase, r.attempt?.token], [1, "enrich", 1]);
      await l.release({ ...A, id: 2, status: "done" });
      const late = await l.spend({ ...A, id: 2, cost_usd: 0.1, tokens_out: 10 });
      assert.deepEqual([late.spend?.token, late.spend?.phase, late.attempt?.outcome], [1, "execute", "done"]);
      const unknown = await l.spend({ ...A, id: 2, model: "some-local-model", tokens_in: 5, tokens_out: 5 });
      assert.equal(unknown.spend?.cost_usd, null);
      assert.equal(unknown.warnings, undefined, "no USD cap to escape");
      // Where there is one, unpriced spend says it counts toward none (seventeenth MCP trial).
      await l.claim({ ...B, id: 1 });
      const escapes = await l.spend({ ...B, id: 1, model: "some-local-model", tokens_in: 5, tokens_out: 5 });
      assert.match((escapes.warnings ?? []).join("\n"), /WO-1: no price is known for model some-local-model, so this report counts toward no USD cap/);
      const wo = await l.get({ project: P, id: 2 });
      assert.deepEqual(wo.spend, { usd: 0.295, tokens_in: 100_005, tokens_out: 2_015, unpriced: 1 });
      const [a] = await l.attempts({ project: P, id: 2 });
      assert.deepEqual(a!.spend, wo.spend);
      const events = (await l.history({ project: P, id: 2 })).filter((e) => e.type === "spend_recorded");
      assert.equal(events.length, 3);
      assert.deepEqual(events[0]!.data.cost_usd, 0.195);
    });

    it("release takes the attempt's spend with it: recorded before the lease ends, and a cap it reaches dead-letters the WO", async () => {
      await l.claim({ ...A, id: 1 });
      const out = await l.release({ ...A, id: 1, spend: { phase: "review", cost_usd: 1.25, tokens_out: 40 } });
      assert.deepEqual([out.status, out.dead_letter, out.spend.usd, out.attempts], ["blocked", "$1.25 spent of a $1.00 cap", 1.25, 1]);
      assert.match(out.warnings?.join("\n") ?? "", /budget exhausted/);
      const [a] = await l.attempts({ project: P, id: 1 });
      assert.deepEqual([a!.outcome, a!.spend.usd], ["released", 1.25]);
      // Only the holder reports with a release: anyone else's is refused with the release, and nothing is recorded.
      await l.claim({ ...A, id: 2 });
      await rejects(l.release({ ...B, id: 2, spend: { cost_usd: 1 } }), "LEASE_HELD");
      await rejects(l.release({ ...A, id: 2, spend: { cost_usd: -1 } }), "VALIDATION");
      assert.equal((await l.get({ project: P, id: 2 })).spend.usd, 0);
    });

    it("spend without an attempt of the caller's is the WO's (planning, review); another agent's attempt is refused; bad figures are refused and nothing is written", async () => {
      const planned = await l.spend({ ...A, id: 2, phase: "enrich", cost_usd: 0.25 });
      assert.deepEqual([planned.attempt, planned.spend?.token, planned.work_order.spend.usd], [null, 0, 0.25]);
      await l.claim({ ...A, id: 2 });
      const review = await l.spend({ ...B, id: 2, phase: "review", tokens_in: 1 });
      assert.deepEqual([review.attempt, review.spend?.agent], [null, "bob"]);
      // Said, not refused (twenty-seventh MCP trial: a non-holder's spend on a held WO came back with no word).
      assert.match((review.warnings ?? []).join("\n"), /recorded against WO-2 itself, not an attempt: you hold no lease on it and never did/);
      // Said as it is: another's held WO's budget is not bob's to use up (thirty-fourth trials: "and budget", and no cap applied).
      assert.match((review.warnings ?? []).join("\n"), /counts in its totals and report, not toward its budget/);
      await rejects(l.spend({ ...B, id: 2, tokens_in: 1, lease_token: 1 }), "FORBIDDEN");
      await rejects(l.spend({ ...A, id: 2, tokens_in: 1, lease_token: 7 }), "NOT_FOUND");
      for (const bad of [
        { tokens_in: -1 },
        { tokens_in: 1.5 },
        { tokens_in: Number.NaN },
        { tokens_out: 1e12 },
        { cost_usd: -0.01 },
        { cost_usd: 1e9 },
        { cost_usd: Number.POSITIVE_INFINITY },
        { tokens_in: "100" as unknown as number },
        { tokens_in: 10, cache_read_tokens: 11 },
        {},
        { tokens_in: 1, phase: "Enrich!" },
        { tokens_in: 1, model: "bad model name" },
      ]) {
        await rejects(l.spend({ ...A, id: 2, ...bad }), "VALIDATION");
      }
      const wo = await l.get({ project: P, id: 2 });
      // bob's review came while alice held it: counted, but not against alice's attempt's cap (issue 24); alice's planning
      // before her claim is not the creator's: counted, never against a cap (sixteenth MCP trial).
      assert.deepEqual(wo.spend, { usd: 0.25, tokens_in: 1, tokens_out: 0, unpriced: 1, outside_usd: 0.25, outside_tokens: 1 });
      assert.equal((await l.history({ project: P, id: 2 })).filter((e) => e.type === "spend_recorded").length, 2);
      // Counted in the report, by phase.
      const report = await l.report({ project: P, by: "phase" });
      assert.deepEqual(
        report.rows.filter((r) => r.key !== "(none)").map((r) => [r.key, r.usd]),
        [
          ["enrich", 0.25],
          ["review", 0],
        ],
      );
      // So no agent dead-letters a WO it never held by reporting spend on it; its creator's planning counts.
      await l.spend({ ...B, id: 1, cost_usd: 5 });
      assert.deepEqual([(await l.get({ project: P, id: 1 })).status, (await l.get({ project: P, id: 1 })).dead_letter], ["open", null]);
      await l.spend({ project: P, agent: "obs", id: 1, phase: "enrich", cost_usd: 1 });
      assert.equal((await l.get({ project: P, id: 1 })).status, "blocked", "the creator's spend reached the cap");
    });

    it("a source's running totals are recorded once: the same totals add nothing, grown ones only the growth", async () => {
      await l.claim({ ...A, id: 2 });
      const once = { ...A, id: 2, model: "claude-haiku-4-5", tokens_in: 1000, tokens_out: 100, source: "transcript:s1" };
      assert.ok((await l.spend(once)).spend);
      assert.equal((await l.spend(once)).spend, null);
      const grown = await l.spend({ ...once, tokens_in: 1500, tokens_out: 100 });
      assert.deepEqual([grown.spend?.tokens_in, grown.spend?.tokens_out], [500, 0]);
      assert.deepEqual((await l.get({ project: P, id: 2 })).spend.tokens_in, 1500);
    });

    it("an attempt whose lease lapsed while its agent kept spending is lost, not just expired", async () => {
      await l.claim({ ...A, id: 2, ttl: "1s" });
      t.advance(2000);
      await l.spend({ ...A, id: 2, tokens_in: 10 });
      const [a] = await l.attempts({ project: P, id: 2 });
      assert.equal(a!.outcome, "lost");
    });

    it("a WO capped at 2 attempts is dead-lettered when the second ends, leaves the queue, refuses claims; raising the cap returns it", async () => {
      for (const agent of ["alice", "bob"]) {
        await l.claim({ ...A, agent, id: 1, ttl: "1s" });
        t.advance(2000);
      }
      const e = await rejects(l.claim({ ...A, id: 1 }), "BUDGET_EXHAUSTED");
      assert.match(e.message, /2 of 2 attempts used/);
      let wo = await l.get({ project: P, id: 1 });
      assert.deepEqual([wo.status, wo.dead_letter, wo.attempts], ["blocked", "2 of 2 attempts used", 2]);
      assert.match(wo.notes.at(-1)!.body, /budget exhausted \(2 of 2 attempts used\)/);
      assert.deepEqual(
        (await l.findUnclaimed({ project: P })).map((w) => w.id),
        [2],
      );
      const C = { ...A, agent: "carol" };
      await rejects(l.update({ ...C, id: 1, status: "open" }), "BUDGET_EXHAUSTED");
      await rejects(l.update({ ...C, id: 1, fields: { max_attempts: 3 } }), "FORBIDDEN");
      await l.update({ ...ADMIN, id: 1, fields: { max_attempts: 3 } });
      wo = await l.get({ project: P, id: 1 });
      assert.deepEqual([wo.status, wo.dead_letter], ["open", null]);
      const raised = (await l.history({ project: P, id: 1 })).at(-1)!;
      assert.deepEqual([raised.type, raised.data.budget_raised], ["status_changed", true]);
      assert.equal((await l.claim({ ...C, next: true })).id, 1);
    });

    it("a live attempt that crosses the USD cap is warned, cannot renew, may finish; released, the WO is dead-lettered", async () => {
      await l.claim({ ...A, id: 1 });
      const r = await l.spend({ ...A, id: 1, cost_usd: 1.5 });
      assert.match(r.warnings?.[0] ?? "", /\$1\.50 spent of a \$1\.00 cap/);
      assert.equal(r.work_order.status, "claimed");
      // A reviewer's spend from outside any attempt counts for reports, never for the cap or the hint's figure (thirty-first MCP trial).
      await l.spend({ ...A, agent: "reviewer", id: 1, phase: "review", cost_usd: 100 });
      await rejects(l.renew({ ...A, id: 1 }), "BUDGET_EXHAUSTED");
      const released = await l.release({ ...A, id: 1 });
      assert.equal(released.status, "blocked");
      assert.match(released.warnings?.[0] ?? "", /budget exhausted/);
      // The hint's cap is above what is already spent (a trial followed "max_usd=2" with $1.50 spent of $1: still exhausted).
      const e = await rejects(l.claim({ ...A, id: 1 }), "BUDGET_EXHAUSTED");
      assert.match(e.hint ?? "", /max_usd=2\.5\b/);
      // Spend reported when nobody holds it dead-letters an open WO at once.
      await l.create({ ...ADMIN, items: [{ title: "tokens", max_tokens: 100 }] });
      await l.claim({ ...A, id: 3 });
      await l.release({ ...A, id: 3 });
      const late = await l.spend({ ...A, id: 3, tokens_in: 150 });
      assert.deepEqual([late.work_order.status, late.work_order.dead_letter], ["blocked", "150 tokens used of a 100 cap"]);
    });

    it("a project's default caps are copied into the WOs created after they are set", async () => {
      await l.setPolicy({ ...ADMIN, max_attempts: 5, max_usd: 2.5 });
      const [capped] = await l.create({ ...A, items: [{ title: "d" }] });
      // Only an admin lifts a project's cap (issue 24).
      await rejects(l.create({ ...A, items: [{ title: "e", max_attempts: null }] }), "FORBIDDEN");
      const [uncapped] = await l.create({ ...ADMIN, items: [{ title: "e", max_attempts: null }] });
      assert.deepEqual([capped!.max_attempts, capped!.max_usd, capped!.max_tokens], [5, 2.5, null]);
      assert.equal(uncapped!.max_attempts, null);
      assert.equal((await l.get({ project: P, id: 2 })).max_attempts, null);
      const [p] = await l.projects({ project: P });
      assert.deepEqual([p!.policy.max_attempts, p!.policy.max_usd], [5, 2.5]);
    });

    it("a project's prices override the built-in table", async () => {
      await l.setPolicy({ ...ADMIN, prices: { "my-model": { input: 1, output: 2 } } });
      await l.claim({ ...A, id: 2 });
      const r = await l.spend({ ...A, id: 2, model: "my-model-v2", tokens_in: 1_000_000, tokens_out: 1_000_000 });
      assert.equal(r.spend?.cost_usd, 3);
    });

    it("report: spend, attempts, outcomes and cost per done WO by agent, and enrich against not", async () => {
      await l.claim({ ...A, id: 2 });
      await l.spend({ ...A, id: 2, phase: "enrich", cost_usd: 0.4, tokens_in: 100 });
      await l.release({ ...A, id: 2, status: "done" });
      await l.claim({ ...B, id: 1, ttl: "1s" });
      await l.spend({ ...B, id: 1, cost_usd: 0.25, tokens_out: 50 });
      t.advance(2000);
      const r = await l.report({ project: P });
      assert.deepEqual(
        r.rows.map((x) => [x.key, x.attempts, x.done_wos, x.usd, x.cost_per_done_wo]),
        [
          ["alice", 1, 1, 0.4, 0.4],
          ["bob", 1, 0, 0.25, null],
        ],
      );
      assert.deepEqual([r.totals.attempts, r.totals.outcomes.done, r.totals.outcomes.expired, r.totals.usd], [2, 1, 1, 0.65]);
      assert.deepEqual([r.enrichment.with_enrich.cost_per_done_wo, r.enrichment.with_enrich.attempts_per_done_wo, r.enrichment.without_enrich.done_wos], [0.4, 1, 0]);
      assert.deepEqual(r.days, [
        { day: "2026-01-01", key: "alice", usd: 0.4, tokens: 100 },
        { day: "2026-01-01", key: "bob", usd: 0.25, tokens: 50 },
      ]);
      const byLabel = await l.report({ project: P, by: "label" });
      assert.deepEqual(byLabel.rows.map((x) => x.key).sort(), ["(none)", "ui"]);
      t.advance(8 * 86_400_000);
      assert.equal((await l.report({ project: P })).totals.attempts, 0);
    });
  });
}
