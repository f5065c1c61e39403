/**
 * A write transaction's held-back writes go out pipelined with COMMIT
 * (PgTx.commit). If one of them fails, nothing of the transaction may stay.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { PgTx } from "../../src/storage/postgres/tx.ts";
import { pgTestLedger, requirePostgres } from "../conformance/backends.ts";

const available = await requirePostgres("commit");

describe("pipelined commit on PostgreSQL", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let ledger: Ledger;
  let raw: pg.Pool;
  let close: (() => Promise<void>) | undefined;

  before(async () => ({ ledger, raw, close } = await pgTestLedger("wl_commit", 2, { pipeline: true })));
  after(() => close?.());

  it("a held-back write that violates a constraint fails the commit and leaves nothing behind", async () => {
    await ledger.create({ project: "p", agent: "a", items: [{ title: "x" }] });
    const client = await raw.connect();
    try {
      await client.query("BEGIN");
      const tx = new PgTx(client, new Date().toISOString(), true, false);
      const wo = (await tx.getWorkOrder("p", 1))!;
      await tx.insertNote({ project: "p", wo: 1, agent: "a", kind: "progress", body: "written before the failure", created_at: tx.now() });
      // claimed without a lease breaks the schema's CHECK; only the server can tell.
      await tx.saveWorkOrder({ ...wo, status: "claimed", revision: wo.revision + 1 });
      await tx.appendEvents([{ project: "p", wo: 1, type: "status_changed", agent: "a", revision: wo.revision + 1, at: tx.now(), data: { from: "open", to: "claimed" } }]);
      await assert.rejects(tx.commit(), /check constraint/);
      await client.query("ROLLBACK").catch(() => undefined);
    } finally {
      client.release();
    }
    const got = await ledger.get({ project: "p", id: 1 });
    assert.equal(got.status, "open");
    assert.deepEqual(got.notes, []);
    assert.deepEqual(
      (await ledger.history({ project: "p", id: 1 })).map((e) => e.type),
      ["created"],
    );
  });
});
