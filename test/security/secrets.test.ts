/**
 * Issue 24, findings 8 and 11: nothing secret leaves the server. During a
 * database outage the unauthenticated /healthz carried the connection string
 * (part of a password holding `:`, with several hosts); anonymous responses
 * now carry only an error's code and meaning, and every message and log line
 * redacts passwords in every URL form.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ledger } from "../../src/core/ledger.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { openPostgresStore, redact } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { Relay } from "../helpers/relay.ts";

describe("passwords are redacted in every URL form (issue 24, finding 8)", () => {
  const cases: [string, string][] = [
    ["postgres://role:pw:secret@127.0.0.1:5432,localhost:5432/db?sslmode=disable", "postgres://role@127.0.0.1:5432,localhost:5432/db?sslmode=disable"],
    ["postgres://u:p@ss/w%2Fx:y@h1:5432,h2/db", "postgres://u@h1:5432,h2/db"],
    ["postgresql://u:%40%3A@h/db", "postgresql://u@h/db"],
    ["postgres://h/db?user=u&password=p:w@x&sslmode=require", "postgres://h/db?user=u&password=***&sslmode=require"],
    ["postgres://u@h/db", "postgres://u@h/db"],
    ["postgres://h:5432/db", "postgres://h:5432/db"],
  ];
  for (const [url, safe] of cases)
    it(url, () => {
      assert.equal(redact(url), safe);
    });
});

describe("anonymous responses say nothing about the database (issue 24, findings 8 and 11)", () => {
  let relay: Relay;
  let server: RunningServer | undefined;
  let ledger: Ledger | undefined;
  let schema = "";
  let skipped = false;

  before(async () => {
    if (!(await requirePostgres("anonymous-response"))) {
      skipped = true;
      return;
    }
    const pg = new URL(PG_URL);
    relay = new Relay({ host: pg.hostname, port: Number(pg.port || 5432) });
    const port = await relay.listen("127.0.0.1");
    schema = uniqueSchema("wl_secrets");
    // Trust auth ignores the password: it is here to be leaked, and must not be.
    const url = `postgres://${pg.username || "postgres"}:pw:s3cret@127.0.0.1:${port},localhost:${port}${pg.pathname}`;
    ledger = new Ledger(await openPostgresStore({ connectionString: url, schema, poolSize: 2 }));
    server = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "test" });
  });
  after(async () => {
    await server?.close();
    await ledger?.close().catch(() => undefined);
    relay?.close();
    if (schema) await dropSchema(schema);
  });

  it("/healthz during an outage is a 503 with the code and its meaning, nothing else", async (t) => {
    if (skipped) return t.skip("PostgreSQL unreachable");
    assert.equal((await fetch(`${server!.url}/healthz`)).status, 200);
    relay.close();
    const r = await fetch(`${server!.url}/healthz`);
    assert.equal(r.status, 503);
    const text = await r.text();
    for (const leak of ["s3cret", "pw", "127.0.0.1", "localhost", new URL(PG_URL).pathname.slice(1), "postgres"]) assert.ok(!text.includes(leak), `${leak} in ${text}`);
    assert.equal(JSON.parse(text).error.code, "UNAVAILABLE");
  });
});
