/** Webhook subscriptions (issue 26), once per back end: admins only, safe URLs, secrets shown once, one deliverer at a time. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { LedgerApi } from "../../src/core/api.ts";
import type { Ledger } from "../../src/core/ledger.ts";
import { delivered, failed } from "../../src/core/webhooks.ts";
import { rejects } from "../helpers/rejects.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`webhook subscriptions on ${backend.name} (issue 26)`, () => {
    let l: LedgerApi;
    let cleanup: () => Promise<void>;
    let c: Clock;
    const ADMIN = { agent: "root", role: "admin" as const };
    const AGENT = { agent: "alice" };

    beforeEach(async () => {
      c = clock();
      ({ ledger: l, cleanup } = await backend.open(c));
      await l.create({ project: "p", agent: "alice", new_project: true, items: [{ title: "one" }] });
    });
    afterEach(async () => cleanup());

    it("admins add, list, pause, resume, test and delete; the secret is shown once; agents are refused", async () => {
      await rejects(l.webhookAdd({ ...AGENT, url: "https://example.com/h", events: ["*"] }), "FORBIDDEN", /only an admin may subscribe|only admins may/);
      const w = await l.webhookAdd({ ...ADMIN, url: "https://93.184.216.34/h", events: ["needs-human", "claimed", "claimed"], project: "p" });
      assert.match(w.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      assert.deepEqual([w.events, w.project, w.state, w.format, w.allow_private], [["needs-human", "claimed"], "p", "active", "standard", false]);
      // It starts after the events a follower has seen (on PostgreSQL, those settled: an event still settling may be sent too).
      assert.ok(w.cursor <= (await l.history({ project: "p" })).at(-1)!.seq);
      const [listed] = await l.webhookList(ADMIN);
      assert.equal(listed!.id, w.id);
      assert.ok(!("secret" in listed!) && !JSON.stringify(listed).includes(w.secret), "never shown again");
      await rejects(l.webhookList(AGENT), "FORBIDDEN");
      assert.equal((await l.webhookPause({ ...ADMIN, id: w.id })).state, "paused");
      assert.equal((await l.webhookResume({ ...ADMIN, id: w.id })).state, "active");
      assert.equal((await l.webhookTest({ ...ADMIN, id: w.id })).health.test_requested_at, new Date(c.now).toISOString());
      await rejects(l.webhookPause({ ...AGENT, id: w.id }), "FORBIDDEN");
      await rejects(l.webhookDelete({ ...ADMIN, id: "000000000000" }), "NOT_FOUND");
      assert.deepEqual(await l.webhookDelete({ ...ADMIN, id: w.id }), { id: w.id, deleted: true });
      assert.deepEqual(await l.webhookList(ADMIN), []);
      await rejects(l.webhookAdd({ ...ADMIN, url: "https://93.184.216.34/h", events: ["*"], project: "nope" }), "NOT_FOUND");
    });

    it("refuses URLs that are not http(s), carry credentials, or reach metadata, link-local, private or loopback addresses; nothing is stored", async () => {
      const bad: [string, RegExp][] = [
        ["http://169.254.169.254/latest/meta-data", /169\.254\.169\.254 is a metadata address/],
        ["http://[fd00:ec2::254]/", /is a metadata address/],
        ["http://169.254.10.1/", /is a link-local address/],
        ["http://[fe80::1]/", /is a link-local address/],
        ["http://10.1.2.3/", /is a private address \(an admin may allow/],
        ["http://127.0.0.1:9/", /is a loopback address/],
        ["http://[::ffff:169.254.169.254]/", /metadata address/],
        ["http://0.0.0.0/", /an unspecified address/],
        ["ftp://example.com/", /must be http or https/],
        ["https://user:pw@example.com/", /must not carry a user name or password/],
        ["not a url", /is not a URL/],
      ];
      for (const [url, why] of bad) await rejects(l.webhookAdd({ ...ADMIN, url, events: ["*"] }), "VALIDATION", why);
      await rejects(l.webhookAdd({ ...ADMIN, url: "http://169.254.169.254/", events: ["*"], allow_private: true }), "VALIDATION", /metadata/);
      await rejects(l.webhookAdd({ ...ADMIN, url: "https://example.com/", events: ["bogus" as never] }), "VALIDATION", /must be one of/);
      assert.deepEqual(await l.webhookList(ADMIN), []);
      assert.equal((await l.webhookAdd({ ...ADMIN, url: "http://10.1.2.3/", events: ["*"], allow_private: true })).allow_private, true);
    });

    if (backend.name !== "remote") {
      it("one deliverer at a time: another takes a subscription only after its holder stops renewing; a lost holder cannot move the cursor", async () => {
        const ledger = l as Ledger;
        const w = await ledger.webhookAdd({ ...ADMIN, url: "https://93.184.216.34/h", events: ["*"] });
        assert.deepEqual(
          (await ledger.webhooksToDeliver("A", 30_000)).map((x) => x.id),
          [w.id],
        );
        assert.deepEqual(await ledger.webhooksToDeliver("B", 30_000), [], "A holds it");
        c.advance(10_000);
        assert.equal((await ledger.webhookProgress(w.id, "A", 30_000, (x, now) => delivered(x, x.cursor + 1, now, true)))!.health.delivered, 1);
        c.advance(25_000);
        assert.deepEqual(await ledger.webhooksToDeliver("B", 30_000), [], "renewed by its progress");
        c.advance(6_000);
        assert.equal((await ledger.webhooksToDeliver("B", 30_000)).length, 1, "A stopped renewing: B takes over");
        assert.equal(await ledger.webhookProgress(w.id, "A", 30_000, (x, now) => delivered(x, x.cursor + 1, now, true)), null, "A is fenced");
        await ledger.webhookPause({ ...ADMIN, id: w.id });
        assert.equal(await ledger.webhookProgress(w.id, "B", 30_000, (x) => x), null, "paused: B stops");
        await ledger.webhookResume({ ...ADMIN, id: w.id });
        const b = (await ledger.webhooksToDeliver("B", 30_000))[0]!;
        assert.equal(b.cursor, w.cursor + 1, "the cursor B resumes from");
        // Failing past the window suspends it, with its last error shown.
        let x = await ledger.webhookProgress(w.id, "B", 30_000, (y, now) => failed(y, "HTTP 500: down", now, 60_000));
        assert.equal(x!.state, "active");
        c.advance(61_000);
        await ledger.webhooksToDeliver("B", 30_000);
        x = await ledger.webhookProgress(w.id, "B", 30_000, (y, now) => failed(y, "HTTP 500: still down", now, 60_000));
        assert.equal(x!.state, "suspended");
        const [shown] = await ledger.webhookList(ADMIN);
        assert.deepEqual([shown!.state, shown!.health.last_error, shown!.health.failures], ["suspended", "HTTP 500: still down", 2]);
        assert.deepEqual(await ledger.webhooksToDeliver("B", 30_000), [], "a suspended subscription is not delivered to");
        await ledger.webhookTest({ ...ADMIN, id: w.id });
        assert.deepEqual(
          (await ledger.webhooksToDeliver("B", 30_000)).map((y) => [y.state, y.health.test_requested_at !== null]),
          [["suspended", true]],
          "but a test asked for is sent",
        );
      });
    }
  });
}
