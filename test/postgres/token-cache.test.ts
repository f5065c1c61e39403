/**
 * serve's token cache on a PostgreSQL ledger: lookups are remembered for a
 * bounded time, and a revoked token is refused once that time has passed.
 * The cache's clock is moved by hand; the database is real.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { authorize } from "../../src/core/auth.ts";
import { Ledger } from "../../src/core/ledger.ts";
import { TokenCache, TTL_MS } from "../../src/core/token-cache.ts";
import { openLedger } from "../../src/index.ts";
import { dropSchema, PG_URL, pgTestLedger, requirePostgres, uniqueSchema } from "../conformance/backends.ts";

const available = await requirePostgres("token cache");

describe("serve's token cache on PostgreSQL", { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" }, () => {
  let ledger: Ledger;
  let close: (() => Promise<void>) | undefined;

  before(async () => ({ ledger, close } = await pgTestLedger("wl_tokens", 2)));
  after(() => close?.());

  it("the composition point gives a PostgreSQL ledger the cache, and a SQLite one none", async () => {
    const schema = uniqueSchema("wl_tokens");
    const pgLedger = await openLedger({ databaseUrl: PG_URL, schema });
    try {
      assert.ok(pgLedger.tokenLookup instanceof TokenCache);
    } finally {
      await pgLedger.close();
      await dropSchema(schema);
    }
    const sqlite = await openLedger({ db: ":memory:" });
    assert.equal(sqlite.tokenLookup, sqlite.tokens);
    await sqlite.close();
  });

  it("a revoked token is accepted at most until the entry is TTL_MS old, then refused", async () => {
    let now = 0;
    let lookups = 0;
    const cache = new TokenCache({ find: (s) => (lookups++, ledger.tokens.find(s)) }, TTL_MS, () => now);
    const t = await ledger.tokens.create({ agent: "a", role: "agent" }, "admin");
    assert.equal((await cache.find(t.token))?.id, t.id);
    now += TTL_MS / 2;
    await cache.find(t.token);
    assert.equal(lookups, 1, "the second request within the TTL did not touch the database");

    await ledger.tokens.revoke({ id: t.id }, "admin");
    now += TTL_MS / 2 - 1;
    assert.equal((await cache.find(t.token))?.revoked_at, null, "inside the window the cached record is used");
    assert.equal(lookups, 1);
    now += 1;
    const after = await cache.find(t.token);
    assert.throws(() => authorize(after, "read", null), /revoked/);
    assert.equal(lookups, 2);
  });

  it("revoked and unknown tokens are never remembered", async () => {
    const now = 0;
    let lookups = 0;
    const cache = new TokenCache({ find: (s) => (lookups++, ledger.tokens.find(s)) }, TTL_MS, () => now);
    const t = await ledger.tokens.create({ agent: "b", role: "agent" }, "admin");
    await ledger.tokens.revoke({ id: t.id }, "admin");
    assert.notEqual((await cache.find(t.token))?.revoked_at, null);
    assert.notEqual((await cache.find(t.token))?.revoked_at, null);
    assert.equal(await cache.find("wl_000000000000_unknown"), null);
    assert.equal(await cache.find("wl_000000000000_unknown"), null);
    assert.equal(lookups, 4);
  });
});
