/**
 * Webhook delivery by a real `serve` (issue 26): every event, in order, each
 * verified by the standardwebhooks reference verifier; retried with backoff
 * while the receiver fails; suspended when it never recovers; resumed after
 * a SIGKILL with at most the event in flight repeated, under the same id.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openLedger } from "../../src/index.ts";
import type { Ledger } from "../../src/core/ledger.ts";
import type { PublicWebhook } from "../../src/core/types.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { receiver, type Delivery, type Receiver } from "../helpers/receiver.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";
import { until } from "../helpers/util.ts";

const FAST = ["--webhook-retry-max", "200ms", "--webhook-timeout", "2s"];

/** The events a receiver accepted, each once: in order with no gap is `from+1 … to`. */
function seqs(list: readonly Delivery[]): number[] {
  return list.filter((d) => d.seq !== null).map((d) => d.seq!);
}

describe("webhook delivery by serve (issue 26)", () => {
  let s: Sandbox;
  let ledger: Ledger;
  const ADMIN = { agent: "root", role: "admin" as const };

  before(async () => {
    s = sandbox();
    ledger = await openLedger({ db: s.db });
    await ledger.create({ project: "p", agent: "alice", new_project: true, items: [{ title: "first" }] });
  });
  after(async () => {
    await ledger.close();
    s.cleanup();
  });

  const subscribe = async (r: Receiver, events: string[] = ["*"], format?: "slack") => {
    const w = await ledger.webhookAdd({ ...ADMIN, url: r.url, events: events as never, allow_private: true, project: "p", ...(format ? { format } : {}) });
    r.secret = w.secret;
    return w;
  };
  /** A receiver subscribed to project p's `events` and a running serve, for `fn`; all of it stopped and deleted afterwards. */
  const delivering = async (
    opts: { events?: string[]; format?: "slack"; args?: string[] },
    fn: (r: Receiver, w: PublicWebhook, server: ServeProcess) => Promise<void>,
  ): Promise<void> => {
    const r = await receiver();
    const w = await subscribe(r, opts.events, opts.format);
    const server = await serve(s.env, [...FAST, ...(opts.args ?? [])]);
    try {
      await fn(r, w, server);
    } finally {
      await server.stop();
      await r.close();
      await ledger.webhookDelete({ ...ADMIN, id: w.id });
    }
  };
  const createMany = async (n: number) => {
    for (let done = 0; done < n; done += 500)
      await ledger.create({ project: "p", agent: "alice", items: Array.from({ length: Math.min(500, n - done) }, (_, i) => ({ title: `wo ${done + i}` })) });
  };

  it("delivers every event of a 2,000-event run in order, each verified, no duplicate without a crash", { timeout: 120_000 }, async () => {
    await delivering({ args: ["--public-metrics"] }, async (r, w, server) => {
      await createMany(2000);
      assert.ok(await until(() => r.accepted().length >= 2000, 90_000), `only ${r.accepted().length} of 2000 arrived`);
      const got = seqs(r.accepted());
      assert.deepEqual(
        got,
        Array.from({ length: 2000 }, (_, i) => w.cursor + 1 + i),
      );
      assert.ok(r.deliveries.every((d) => d.verified && d.type === "workledger.created"));
      assert.equal(new Set(r.deliveries.map((d) => d.id)).size, r.deliveries.length, "no duplicates");
      assert.match(r.deliveries[0]!.id, new RegExp(`^msg_${w.id}_${w.cursor + 1}$`));
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /^workledger_webhook_deliveries_total\{result="ok"\} 2000$/m);
    });
  });

  it("a receiver that fails for a while gets the events after it recovers, in order; a subscription's filter leaves the others out", async () => {
    await delivering({ events: ["needs-human"] }, async (r) => {
      let failures = 3;
      r.answer = () => (failures-- > 0 ? 500 : 200);
      await ledger.claim({ project: "p", agent: "bob", id: 1 });
      await ledger.release({ project: "p", agent: "bob", id: 1, status: "blocked", note: "needs a key" });
      await ledger.create({ project: "p", agent: "alice", items: [{ title: "noise" }] });
      assert.ok(await until(() => r.accepted().length === 1, 20_000));
      const [d] = r.accepted();
      assert.equal((d!.body.data as { needs_human: string }).needs_human, "blocked");
      const tries = r.deliveries.filter((x) => x.id === d!.id).length;
      assert.ok(tries >= 2, `retried (${tries} tries) with the same webhook-id`);
      const [listed] = await ledger.webhookList(ADMIN);
      assert.equal(listed!.health.delivered, 1);
      assert.match(listed!.health.last_error ?? "", /HTTP 500: receiver is down/);
    });
  });

  it("a receiver that never recovers ends suspended with its error shown; resume delivers from where it stopped", async () => {
    await delivering({ args: ["--webhook-suspend-after", "2s"] }, async (r, w) => {
      r.answer = () => 503;
      await ledger.addNote({ project: "p", agent: "alice", id: 1, body: "hello" });
      assert.ok(await until(() => s.run(["--as-admin", "--agent", "root", "webhook", "list", "--json"]).json[0]?.state === "suspended", 20_000));
      const shown = s.run(["--as-admin", "--agent", "root", "webhook", "list"]).stdout;
      assert.match(shown, /suspended .*HTTP 503: receiver is down/);
      const tries = r.deliveries.length;
      await new Promise((done) => setTimeout(done, 1000));
      assert.equal(r.deliveries.length, tries, "nothing is sent to a suspended subscription");
      r.answer = () => 200;
      assert.equal(s.run(["--as-admin", "--agent", "root", "webhook", "resume", "--id", w.id]).code, 0);
      assert.ok(await until(() => r.accepted().length === 1, 20_000));
      assert.equal(r.accepted()[0]!.seq, w.cursor + 1);
      // Not spawnSync: the receiver answers from this process.
      const test = await s.spawn(["--as-admin", "--agent", "root", "webhook", "test", "--id", w.id]);
      assert.equal(test.code, 0, test.stderr);
      assert.match(test.stdout, /test delivered at/);
      assert.equal(r.deliveries.at(-1)!.type, "workledger.test");
      assert.ok(r.deliveries.at(-1)!.verified);
    });
  });

  it("after a SIGKILL mid-stream a new serve resumes: every event arrives, and only the one in flight may repeat, with the same webhook-id", { timeout: 120_000 }, async () => {
    const r = await receiver();
    const w = await subscribe(r);
    let server: ServeProcess = await serve(s.env, FAST);
    try {
      await createMany(1000);
      assert.ok(await until(() => r.accepted().length >= 100, 30_000));
      server.child.kill("SIGKILL");
      await new Promise((done) => server.child.once("exit", done));
      const before = r.accepted().length;
      assert.ok(before < 1000, "killed mid-stream");
      server = await serve(s.env, FAST);
      assert.ok(await until(() => new Set(seqs(r.accepted())).size >= 1000, 60_000));
      const got = seqs(r.accepted());
      const unique = [...new Set(got)];
      assert.deepEqual(
        unique,
        Array.from({ length: 1000 }, (_, i) => w.cursor + 1 + i),
        "every event, in order",
      );
      assert.ok(got.length - unique.length <= 1, `at most the one in flight repeats (${got.length - unique.length})`);
      const ids = new Map<number, Set<string>>();
      for (const d of r.accepted()) ids.set(d.seq!, (ids.get(d.seq!) ?? new Set()).add(d.id));
      assert.ok(
        [...ids.values()].every((set) => set.size === 1),
        "a repeat carries the same webhook-id",
      );
    } finally {
      await server.stop();
      await r.close();
      await ledger.webhookDelete({ ...ADMIN, id: w.id });
    }
  });

  it("--format slack posts a one-line message a person reads in a channel", async () => {
    await delivering({ events: ["needs-human"], format: "slack" }, async (r) => {
      const [wo] = await ledger.create({ project: "p", agent: "alice", items: [{ title: "for slack" }] });
      await ledger.claim({ project: "p", agent: "bob", id: wo!.id });
      await ledger.release({ project: "p", agent: "bob", id: wo!.id, status: "blocked", note: "no key" });
      assert.ok(await until(() => r.accepted().length === 1, 20_000));
      assert.deepEqual(r.accepted()[0]!.body, { text: `[needs a human: blocked] p WO-${wo!.id}: released by bob` });
    });
  });

  it("the CLI refuses a metadata or link-local URL with exit 2 and stores nothing", () => {
    for (const url of ["http://169.254.169.254/latest", "http://[fe80::1]:80/", "http://localhost:9/"]) {
      const r = s.run(["--as-admin", "--agent", "root", "webhook", "add", "--url", url, "--events", "*", "--json"]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.json.error.message, /nothing was stored/);
    }
    assert.equal(s.run(["--agent", "alice", "webhook", "list", "--json"]).code, 9, "agents may not list subscriptions");
    assert.deepEqual(s.run(["--as-admin", "--agent", "root", "webhook", "list", "--json"]).json, []);
  });
});
