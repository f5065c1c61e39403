/**
 * Retention (issue 29, item 2) on both stores: prune removes the history of
 * WOs finished before the cutoff, hands it to the archive first, keeps their
 * final state, attempts and folded spend (a report over the window is the
 * same), and never touches open, claimed or blocked WOs.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Ledger } from "../../src/core/ledger.ts";
import type { ArchiveLine } from "../../src/core/service/archive.ts";
import { backends, clock, type Clock } from "./backends.ts";
import { rejects } from "../helpers/rejects.ts";

const DAY = 86_400_000;

for (const backend of backends.filter((b) => b.name !== "remote")) {
  describe(`prune on ${backend.name} (issue 29)`, () => {
    let l: Ledger;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "ret";
    const A = { project: P, agent: "alice", role: "agent" as const };
    const B = { project: P, agent: "bob", role: "agent" as const };
    const ADMIN = { role: "admin" as const };

    beforeEach(async () => {
      t = clock();
      const opened = await backend.open(t);
      l = opened.ledger as Ledger; // the local stores' ledger: prune is no remote operation
      cleanup = opened.cleanup;
    });
    afterEach(async () => cleanup());

    /** Old work: WO-1 done after two attempts with priced and unpriced spend in two phases and two models, notes and context; WO-2 cancelled; WO-3 blocked; WO-4 open; WO-5 claimed. */
    async function oldWork(): Promise<void> {
      await l.create({ project: P, agent: "obs", items: ["done", "cancelled", "blocked", "open", "claimed"].map((title) => ({ title, labels: ["ui"] })) });
      await l.spend({ ...A, id: 1, phase: "enrich", cost_usd: 0.25, tokens_in: 10, tokens_out: 1 });
      await l.claim({ ...A, id: 1, ttl: "1d" });
      for (let i = 0; i < 4; i++) {
        await l.spend({ ...A, id: 1, model: "m1", cost_usd: 0.1 * (i + 1), tokens_in: 100, tokens_out: 10 + i });
        t.advance(DAY / 3); // across two days
        await l.renew({ ...A, id: 1, ttl: "1d" });
      }
      await l.spend({ ...A, id: 1, model: "local", tokens_in: 5, tokens_out: 5 }); // unpriced
      await l.addNote({ ...A, id: 1, kind: "finding", body: "the parser is slow" });
      await l.contextPut({ ...A, id: 1, key: "handover", body: "half done" });
      await l.release({ ...A, id: 1, status: "open" });
      await l.claim({ ...B, id: 1 });
      await l.spend({ ...B, id: 1, model: "m2", cost_usd: 1.5, tokens_in: 1000, tokens_out: 100 });
      await l.release({ ...B, id: 1, status: "done" });
      await l.update({ project: P, agent: "obs", id: 2, fields: {}, status: "cancelled" });
      await l.claim({ ...A, id: 3 });
      await l.release({ ...A, id: 3, status: "blocked", note: "waiting" });
      await l.claim({ ...B, id: 5, ttl: "7d" });
      await l.spend({ ...B, id: 5, model: "m1", cost_usd: 0.5, tokens_in: 1, tokens_out: 1 });
    }

    it("removes the finished WOs' history, archived first; their state, attempts and report stay; unfinished WOs keep everything", async () => {
      await oldWork();
      t.advance(200 * DAY);
      await l.renew({ ...B, id: 5, ttl: "7d" }).catch(() => undefined);
      const reportBefore = await l.report({ project: P, since: "366d", by: "phase" });
      const byModel = await l.report({ project: P, since: "366d", by: "model" });
      const events = async (id: number) => (await l.history({ project: P, id, limit: 1000 })).length;
      const kept = { 3: await events(3), 4: await events(4), 5: await events(5) };
      const lines: ArchiveLine[] = [];
      await rejects(
        l.prune({ before: "180d", role: "agent" }, async () => undefined),
        "FORBIDDEN",
      );
      const r = await l.prune({ ...ADMIN, before: "180d" }, async (batch) => void lines.push(...batch));
      assert.equal(r.projects.length, 1);
      const p = r.projects[0]!;
      assert.deepEqual([p.name, p.work_orders, p.notes, p.context], [P, 2, 1, 1]);
      assert.ok(p.events >= 8, `events: ${p.events}`);
      assert.equal(p.spend, 7);
      assert.ok(p.spend_kept < p.spend, "priced records folded per attempt and day");
      // Archived first: every removed record is in the archive, which import can load.
      assert.deepEqual(
        lines.map((x) => x.type).filter((x, i, a) => a.indexOf(x) === i),
        ["header", "project", "work_order", "attempt", "note", "spend", "context", "event", "end"].filter((x) => lines.some((y) => y.type === x)),
      );
      assert.equal(lines.filter((x) => x.type === "spend").length, 7);
      assert.equal(lines.filter((x) => x.type === "event").length, p.events);
      assert.deepEqual(
        lines.filter((x) => x.type === "work_order").map((x) => (x as { record: { id: number } }).record.id),
        [1, 2],
      );
      assert.equal((lines[0] as { pruned_before?: string }).pruned_before, r.before);

      // The report over the window is the same; the WOs keep their final state and attempts.
      assert.deepEqual(await l.report({ project: P, since: "366d", by: "phase" }), reportBefore);
      assert.deepEqual(await l.report({ project: P, since: "366d", by: "model" }), byModel);
      const done = await l.get({ project: P, id: 1 });
      assert.equal(done.status, "done");
      assert.deepEqual([done.spend.usd, done.notes.length], [0.25 + 1 + 1.5, 0]);
      assert.equal((await l.attempts({ project: P, id: 1 })).length, 2);
      assert.equal(await events(1), 0);
      // Open, claimed and blocked WOs are never pruned, however old.
      assert.deepEqual({ 3: await events(3), 4: await events(4), 5: await events(5) }, kept);
      // Once pruned, nothing is left to prune.
      const again = await l.prune({ ...ADMIN, before: "180d" }, async () => undefined);
      assert.deepEqual(again.projects, []);

      // The archive loads into an empty ledger: the removed history is there.
      const empty = await backend.open(clock());
      try {
        const fresh = empty.ledger as Ledger;
        async function* text() {
          for (const x of lines) yield JSON.stringify(x);
        }
        await fresh.importLedger(ADMIN, text());
        const ofOne = lines.filter((x) => x.type === "event" && x.record.wo === 1).length;
        assert.equal((await fresh.history({ project: P, id: 1, limit: 1000 })).length, ofOne);
        assert.equal((await fresh.get({ project: P, id: 1 })).notes.length, 1);
      } finally {
        await empty.cleanup();
      }
    });

    it("keeps WOs finished after the cutoff, and a project named", async () => {
      await oldWork();
      t.advance(10 * DAY);
      const r = await l.prune({ ...ADMIN, before: "180d" }, async () => undefined);
      assert.deepEqual(r.projects, []);
      await rejects(
        l.prune({ ...ADMIN, project: "nope", before: "1d" }, async () => undefined),
        "NOT_FOUND",
      );
      await rejects(
        l.prune({ ...ADMIN, before: "180" }, async () => undefined),
        "VALIDATION",
        /before/,
      );
      // The project's retention, which serve prunes by daily, is stored with its policy.
      const set = await l.setPolicy({ project: P, agent: "boss", role: "admin", prune_after: "180d" });
      assert.equal(set.policy.prune_after_ms, 180 * DAY);
      assert.equal((await l.setPolicy({ project: P, agent: "boss", role: "admin", prune_after: "none" })).policy.prune_after_ms, null);
    });
  });
}
