/**
 * Issue 24, findings 5, 6, 7 and 16: agents act within an admin's policy, on
 * every back end. A hold cap or TTL an agent asks for can only be shorter
 * than the project's; budget caps it gives can only be tighter; a former
 * holder's spend report is counted but cannot end the current attempt or
 * dead-letter the WO; one report cannot record more than 100,000 USD.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "../conformance/backends.ts";
import { rejects } from "../helpers/rejects.ts";

for (const backend of backends) {
  describe(`agents act within admin policy on ${backend.name} (issue 24)`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "capped";
    const MALLORY = { project: P, agent: "mallory" };
    const BOB = { project: P, agent: "bob" };
    const ADMIN = { project: P, agent: "root", role: "admin" as const };
    const ms = (wo: { lease: { claimed_at: string; expires_at: string; hold_until: string | null } | null }) =>
      [Date.parse(wo.lease!.expires_at) - Date.parse(wo.lease!.claimed_at), wo.lease!.hold_until && Date.parse(wo.lease!.hold_until) - Date.parse(wo.lease!.claimed_at)] as const;

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
      await l.create({ ...ADMIN, new_project: true, items: [{ title: "a" }, { title: "b" }, { title: "c" }] });
      await l.setPolicy({ ...ADMIN, max_hold: "1m", max_usd: 1 });
    });
    afterEach(async () => cleanup());

    it("finding 5: an agent's max_hold and ttl cannot outlast the project's hold cap, by id or next; a shorter one is kept; an admin's is its own", async () => {
      assert.deepEqual(ms(await l.claim({ ...MALLORY, id: 1, ttl: "7d", max_hold: "30d" })), [60_000, 60_000]);
      assert.deepEqual(ms(await l.claim({ ...MALLORY, next: true, ttl: "7d", max_hold: "30d" })), [60_000, 60_000]);
      assert.deepEqual(ms(await l.claim({ ...BOB, next: true, ttl: "10s", max_hold: "30s" as never }).catch(() => l.claim({ ...BOB, id: 3, ttl: "10s" }))), [10_000, 60_000]);
      t.advance(61_000);
      assert.deepEqual(ms(await l.claim({ ...ADMIN, id: 1, ttl: "2h", max_hold: "1d" })), [7_200_000, 86_400_000]);
    });

    it("finding 6: an agent's budget caps may only be tighter than the project's, never none or more", async () => {
      const none = await rejects(l.create({ ...MALLORY, items: [{ title: "free", max_usd: null }] }), "FORBIDDEN");
      assert.match(none.message, /max_usd none \(the project's is 1\)/);
      await rejects(l.create({ ...MALLORY, items: [{ title: "rich", max_usd: 100_000 }] }), "FORBIDDEN");
      await rejects(l.create({ ...MALLORY, items: [{ title: "ok" }, { title: "rich", max_usd: 2 }] }), "FORBIDDEN");
      const [tight] = await l.create({ ...MALLORY, items: [{ title: "tight", max_usd: 0.5, max_attempts: 3 }] });
      assert.deepEqual([tight!.max_usd, tight!.max_attempts], [0.5, 3], "tighter, or a cap the project does not set, is anyone's");
      const [plain] = await l.create({ ...MALLORY, items: [{ title: "plain" }] });
      assert.equal(plain!.max_usd, 1);
      const [admins] = await l.create({ ...ADMIN, items: [{ title: "admin's", max_usd: null }] });
      assert.equal(admins!.max_usd, null);
    });

    it("finding 7: a former holder's late report is counted but cannot end the current attempt or dead-letter the WO", async () => {
      const [capped] = await l.create({ ...BOB, items: [{ title: "capped at the project's $1" }] });
      const id = capped!.id;
      await l.claim({ ...MALLORY, id });
      await l.release({ ...MALLORY, id });
      await l.claim({ ...BOB, id, ttl: "10s" });
      const late = await l.spend({ ...MALLORY, id, cost_usd: 50_000 });
      assert.equal(late.work_order.spend.usd, 50_000, "recorded and counted");
      assert.equal(late.work_order.status, "claimed");
      await l.renew({ ...BOB, id });
      const released = await l.release({ ...BOB, id });
      assert.deepEqual([released.status, released.dead_letter], ["open", null]);
      // The report is in the project's report, under mallory.
      const report = await l.report({ project: P, by: "agent" });
      assert.ok(JSON.stringify(report).includes("mallory"));
      // The holder's own spend still counts against the cap.
      await l.claim({ ...BOB, id });
      const own = await l.spend({ ...BOB, id, cost_usd: 1.5 });
      assert.match(own.warnings?.[0] ?? "", /\$1\.50 spent of a \$1\.00 cap/);
    });

    it("finding 16: one report's cost, given or priced from its tokens, is at most 100,000 USD", async () => {
      await l.claim({ ...BOB, id: 2 });
      const e = await rejects(l.spend({ ...BOB, id: 2, model: "claude-opus-4", tokens_out: 10_000_000_000 }), "VALIDATION");
      assert.match(e.message, /more than one report may \(100000 USD\)/);
      await rejects(l.spend({ ...BOB, id: 2, cost_usd: 100_001 }), "VALIDATION");
      assert.equal((await l.get({ project: P, id: 2 })).spend.usd, 0, "nothing recorded");
    });
  });
}
