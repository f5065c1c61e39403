/** The dashboard's files as the server sends them: no token needed, strict CSP, revalidation by ETag, nothing else served. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Hono } from "hono";
import type { Ledger } from "../../src/core/ledger.ts";
import { createApp } from "../../src/doors/http/app.ts";
import { mountDashboard } from "../../src/doors/web/static.ts";
import { openLedger } from "../../src/index.ts";

describe("dashboard assets", () => {
  let dir: string;
  let ledger: Ledger;
  let app: Hono;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-web-"));
    ledger = await openLedger({ db: join(dir, "ledger.db") });
    // Run from src/, the server is told where the build put the dashboard.
    app = createApp({ ledger, version: "test", dashboardAssets: new URL("../../dist/doors/web/assets/", import.meta.url) });
  });
  after(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page and its bundle from the package, without a token, under a strict CSP", async () => {
    const page = await app.request("/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/assets\/app.js">/);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'; script-src 'self'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    for (const [file, type] of [
      ["app.js", /^text\/javascript/],
      ["style.css", /^text\/css/],
      ["favicon.svg", /^image\/svg\+xml/],
    ] as const) {
      const res = await app.request(`/assets/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get("content-type") ?? "", type);
    }
  });

  it("answers 304 to a matching ETag, so a new version shows at once and an unchanged one costs nothing", async () => {
    const first = await app.request("/assets/app.js");
    const etag = first.headers.get("etag")!;
    assert.equal(first.headers.get("cache-control"), "no-cache");
    assert.equal((await app.request("/assets/app.js", { headers: { "if-none-match": etag } })).status, 304);
    assert.equal((await app.request("/assets/app.js", { headers: { "if-none-match": '"other"' } })).status, 200);
  });

  it("serves only its own files", async () => {
    for (const path of ["/assets/..%2F..%2Fpackage.json", "/assets/static.js", "/assets/nope.js", "/index.html"]) {
      assert.equal((await app.request(path)).status, 404, path);
    }
  });

  it("says how to build when the assets are missing, and still serves the API", async () => {
    const { Hono } = await import("hono");
    const bare = new Hono();
    mountDashboard(bare, new URL(`file://${dir}/no-assets/`));
    const res = await bare.request("/");
    assert.equal(res.status, 404);
    assert.match(await res.text(), /npm run build/);
  });
});
