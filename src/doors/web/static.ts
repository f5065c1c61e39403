/**
 * Serves the dashboard: one HTML page and its bundled script and styles,
 * read once from the folder the build writes them to. Nothing is
 * fetched from elsewhere at run time (the CSP forbids it).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Hono } from "hono";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const ASSETS = ["index.html", "app.js", "style.css", "favicon.svg"] as const;
/** Where the build puts them: beside the compiled module (dist/doors/web/assets); code run from src/ passes the built folder. */
const ASSETS_DIR = new URL("./assets/", import.meta.url);

function load(dir: URL): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const name of ASSETS) {
    let body: Buffer;
    try {
      body = readFileSync(new URL(name, dir));
    } catch {
      continue; // a build without the dashboard still serves the API
    }
    const type = TYPES[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream";
    out.set(name, { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });
  }
  return out;
}

/** `GET /` and `GET /assets/<file>`; assets revalidate by ETag so an upgrade shows at once. */
export function mountDashboard(app: Hono, dir = ASSETS_DIR): void {
  let assets: Map<string, Asset> | undefined;
  const send = (name: string, ifNoneMatch: string | undefined): Response => {
    assets ??= load(dir);
    const a = assets.get(name);
    if (!a)
      return new Response(name === "index.html" ? "dashboard assets are missing: run npm run build\n" : "not found\n", {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    const headers = { ...SECURITY_HEADERS, "content-type": a.type, etag: a.etag, "cache-control": "no-cache" };
    if (ifNoneMatch === a.etag) return new Response(null, { status: 304, headers });
    return new Response(new Uint8Array(a.body), { headers });
  };
  app.get("/", (c) => send("index.html", c.req.header("if-none-match")));
  app.get("/assets/:file", (c) => send(c.req.param("file"), c.req.header("if-none-match")));
}
