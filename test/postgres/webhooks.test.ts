/**
 * Exactly one deliverer per subscription however many servers share one
 * PostgreSQL (issue 26): two `serve` processes, the one delivering is
 * SIGKILLed mid-stream, and the receiver still gets every event, in order,
 * with no gap (the one in flight may repeat, under the same webhook-id).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, schemaUrl, uniqueSchema } from "../conformance/backends.ts";
import { receiver } from "../helpers/receiver.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";
import { until } from "../helpers/util.ts";

const available = await requirePostgres("webhooks on two servers");

describe("webhooks with two servers on one PostgreSQL (issue 26)", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let schema: string;
  let ledger: Ledger;
  let servers: ServeProcess[] = [];

  before(async () => {
    schema = uniqueSchema("wl_hooks");
    ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema }));
    await ledger.create({ project: "p", agent: "alice", new_project: true, items: [{ title: "first" }] });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await ledger?.close();
    if (schema) await dropSchema(schema);
  });

  it("the deliverer is SIGKILLed mid-stream: the other server takes over and the receiver gets every event in order, no gap", { timeout: 180_000 }, async () => {
    const r = await receiver();
    const w = await ledger.webhookAdd({ agent: "root", role: "admin", url: r.url, events: ["*"], allow_private: true, project: "p" });
    r.secret = w.secret;
    const env = { WORKLEDGER_DATABASE_URL: schemaUrl(schema) };
    const fast = ["--webhook-retry-max", "200ms", "--webhook-timeout", "2s"]; // the deliverer's lease: 6s
    servers = await Promise.all([serve(env, fast), serve(env, fast)]);
    const writer = (async () => {
      for (let i = 0; i < 6; i++) {
        await ledger.create({ project: "p", agent: "alice", items: Array.from({ length: 100 }, (_, j) => ({ title: `wo ${i * 100 + j}` })) });
        await new Promise((done) => setTimeout(done, 300));
      }
    })();
    assert.ok(await until(() => r.accepted().length >= 50, 30_000), "deliveries started");
    // Kill whichever server holds the subscription's lease.
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    const { rows } = await db.query<{ owner: string }>(`SELECT owner FROM "${schema}".webhooks WHERE id = $1`, [w.id]);
    await db.end();
    const holder = servers.find((s) => s.stderr().includes(rows[0]!.owner))!;
    assert.ok(holder, `a server holds it (${rows[0]!.owner})`);
    holder.child.kill("SIGKILL");
    await writer;
    // Every event after the subscription's cursor (on PostgreSQL an event still settling when it was added is among them).
    const expected = (await ledger.history({ project: "p", after: w.cursor, limit: 10_000 })).map((e) => e.seq);
    assert.ok(expected.length >= 600);
    const total = expected.length;
    assert.ok(await until(() => new Set(r.accepted().map((d) => d.seq)).size >= total, 90_000), `${new Set(r.accepted().map((d) => d.seq)).size} of ${total} arrived`);
    const got = r.accepted().map((d) => d.seq!);
    const unique = [...new Set(got)];
    assert.deepEqual(unique, expected, "every event, in order, no gap");
    assert.ok(got.length - unique.length <= 1, `at most the one in flight repeats (${got.length - unique.length})`);
    for (let i = 1; i < got.length; i++) assert.ok(got[i]! >= got[i - 1]!, "never out of order");
    assert.ok(r.deliveries.every((d) => d.verified));
    await r.close();
  });
});
