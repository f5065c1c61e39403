/**
 * Several hosts in one database URL (libpq's form, what pg_autoctl prints for
 * a formation): the first host that gives a writable session is used, and a
 * read-only server is never written to or answered with a 500. Failover with
 * real standbys: test/postgres/failover.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LedgerError } from "../../src/core/errors.ts";
import type { Ledger } from "../../src/core/ledger.ts";
import { openLedger } from "../../src/index.ts";
import { parseHosts } from "../../src/storage/postgres/hosts.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { freePort } from "../helpers/pg-cluster.ts";

describe("database URLs with several hosts", () => {
  it("splits a libpq multi-host URL into one URL per host, writable sessions by default", () => {
    const t = parseHosts("postgres://u:pw@a:5432,[::1]:5433,b/db?target_session_attrs=read-write&sslmode=prefer&application_name=x");
    assert.deepEqual(t.urls, ["postgres://u:pw@a:5432/db?application_name=x", "postgres://u:pw@[::1]:5433/db?application_name=x", "postgres://u:pw@b/db?application_name=x"]);
    assert.deepEqual(t.labels, ["a:5432", "[::1]:5433", "b"]);
    assert.equal(t.readWrite, true);
    assert.equal(parseHosts("postgres://a,b/db").readWrite, true, "several hosts: the ledger writes, so a standby is skipped");
    assert.equal(parseHosts("postgres://a,b/db?target_session_attrs=any").readWrite, false);
    assert.deepEqual(parseHosts("postgresql://a/db"), { urls: ["postgresql://a/db"], labels: ["a"], readWrite: false });
    assert.throws(
      () => parseHosts("postgres://a,b/db?target_session_attrs=standby"),
      (e: unknown) => e instanceof LedgerError && e.code === "VALIDATION",
    );
  });
});

const available = await requirePostgres("multi-host");

describe("several hosts on PostgreSQL", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  const schema = uniqueSchema("wl_hosts");
  const u = new URL(PG_URL);
  let ledger: Ledger;
  before(async () => {
    ledger = await openLedger({ databaseUrl: PG_URL, schema });
    await ledger.create({ project: "p", agent: "a", items: [{ title: "x" }] });
  });
  after(async () => {
    await ledger.close();
    await dropSchema(schema);
  });

  it("skips a host that refuses connections and uses the next one", async () => {
    const dead = await freePort();
    const multi = await openLedger({ databaseUrl: `postgres://${u.username}@127.0.0.1:${dead},${u.host}${u.pathname}`, schema });
    try {
      const wo = await multi.claim({ project: "p", agent: "a", id: 1, ttl: "1m" });
      assert.equal(wo.lease?.token, 1);
    } finally {
      await multi.close();
    }
  });

  it("a read-only server is refused with UNAVAILABLE (exit 7, HTTP 503), never written to and never INTERNAL", async () => {
    const readOnly = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent("-c default_transaction_read_only=on")}`;
    const unavailable = (e: unknown) => e instanceof LedgerError && e.code === "UNAVAILABLE" && /read-only/.test(e.message) && /retry/.test(e.hint ?? "");
    // Asking for a writable session: the connection is refused before any statement.
    await assert.rejects(openLedger({ databaseUrl: `${readOnly}&target_session_attrs=read-write`, schema }), unavailable);
    // Not asking: the write itself is refused by the server, and still reported as UNAVAILABLE.
    const any = await openLedger({ databaseUrl: readOnly, schema });
    try {
      await assert.rejects(any.addNote({ project: "p", agent: "a", id: 1, body: "never written" }), unavailable);
      assert.equal((await any.get({ project: "p", id: 1 })).notes.length, 0);
    } finally {
      await any.close();
    }
  });
});
