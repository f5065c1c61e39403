/**
 * Fuzzing the HTTP door in-process: hostile paths, bodies and headers. Every
 * rejection is a 4xx with the standard error body (never a 500, a crash or a
 * hang) and leaves the ledger byte-for-byte unchanged.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type { Hono } from "hono";
import type { Ledger } from "../../src/core/ledger.ts";
import { createApp } from "../../src/doors/http/app.ts";
import { openLedger } from "../../src/index.ts";
import { dumpSqlite } from "../helpers/db.ts";
import { hostileBody, nasty } from "./hostile.ts";

const runs = Number(process.env.WORKLEDGER_FUZZ_RUNS ?? 300);
const seed = Number(process.env.WORKLEDGER_FUZZ_SEED ?? 424242);

describe("HTTP fuzzing", () => {
  let dir: string;
  let db: string;
  let ledger: Ledger;
  let app: Hono;
  let token: string;

  const dump = () => dumpSqlite(db);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-fuzz-"));
    db = join(dir, "ledger.db");
    ledger = await openLedger({ db });
    token = (await ledger.tokens.create({ agent: "fuzzer", role: "admin" }, "admin")).token;
    await ledger.create({ project: "p", agent: "seed", items: [{ title: "one", verification: "true" }, { title: "two" }] });
    await ledger.claim({ project: "p", agent: "holder", id: 1 });
    app = createApp({ ledger, version: "fuzz", rateLimit: { perSecond: 1e9, burst: 1e9 }, readLimit: { perSecond: 1e9, burst: 1e9 } });
  });
  after(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const segment = fc.oneof(
    fc.constantFrom("p", "1", "2", "next", "WO-1", "nope"),
    nasty.map((v) => encodeURIComponent(String(v)).slice(0, 200)),
  );
  const path = fc.oneof(
    fc
      .tuple(segment, segment, fc.constantFrom("", "/claim", "/renew", "/release", "/notes", "/verification", "/history"))
      .map(([p, id, tail]) => `/v1/projects/${p}/wos/${id}${tail}`),
    segment.map((p) => `/v1/projects/${p}/wos`),
    fc.tuple(segment, fc.constantFrom("unclaimed", "context", "history")).map(([p, r]) => `/v1/projects/${p}/${r}`),
    fc.constantFrom("/v1/projects", "/v1/wos", "/v1/whoami", "/v1/events/last"),
  );
  const query = fc.dictionary(fc.constantFrom("limit", "status", "label", "agent", "after", "history", "head", "max_age", "key", "x"), nasty.map(String), { maxKeys: 3 });

  it(`rejects hostile requests cleanly (${runs} runs, seed ${seed})`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PATCH", "PUT", "DELETE"),
        path,
        query,
        hostileBody,
        fc.constantFrom("good", "none", "garbage", "basic"),
        async (method, p, q, body, auth) => {
          const before = dump();
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (auth === "good") headers.authorization = `Bearer ${token}`;
          if (auth === "garbage") headers.authorization = "Bearer \u00ff\u00fe' OR 1=1";
          if (auth === "basic") headers.authorization = "Basic Zm9vOmJhcg==";
          const qs = new URLSearchParams(q).toString();
          const init: RequestInit = { method, headers, ...(method === "GET" ? {} : { body }) };
          const res = await app.request(`${p}${qs ? `?${qs}` : ""}`, init);
          const text = await res.text();
          assert.ok(res.status < 500, `${method} ${p} → ${res.status} ${text.slice(0, 300)}`);
          if (res.status >= 400) {
            const err = (JSON.parse(text) as { error: { code: string; message: string } }).error;
            assert.equal(typeof err.code, "string");
            assert.ok(err.message.length > 0);
            assert.equal(dump(), before, `${method} ${p} was rejected (${res.status}) but changed the ledger`);
          }
        },
      ),
      { numRuns: runs, seed },
    );
  });
});
