/**
 * The bin is an esbuild bundle (scripts/bundle-cli.mjs). These check what the
 * bundling could silently break: files found relative to the code, and how
 * little a common command loads.
 */
import assert from "node:assert/strict";
import { readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

// Runs in Node's module-hooks thread and records every module the ESM loader resolves.
const RECORDER = `
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.WORKLEDGER_TEST_LOADED, r.url + "\\n");
  return r;
}`;

describe("bundled bin", () => {
  let s: Sandbox;
  before(() => {
    s = sandbox();
  });
  after(() => s.cleanup());

  it("prints the version of package.json", () => {
    const r = s.run(["--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it("creates a fresh ledger from the migrations shipped in dist/", () => {
    const r = s.run(["init", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json.schema_version >= 3, JSON.stringify(r.json));
  });

  it("agent-setup and demo start the bin itself", () => {
    const { server } = s.run(["agent-setup", "--agent", "a", "--json"]).json;
    assert.equal(server.command, process.execPath);
    assert.equal(realpathSync(server.args[0]), realpathSync(CLI));
    assert.equal(server.args[1], "mcp");
  });

  it("list loads only the bundle and better-sqlite3, and stays small", () => {
    const hooks = join(s.dir, "record-loads.mjs");
    const log = join(s.dir, "loaded.txt");
    writeFileSync(hooks, RECORDER);
    writeFileSync(log, "");
    const register = `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
    const env = { WORKLEDGER_TEST_LOADED: log, NODE_OPTIONS: `--import "data:text/javascript,${encodeURIComponent(register)}"` };
    s.run(["create", "-p", "small", "--agent", "a", "--title", "x"]);
    const r = s.run(["list", "-p", "small", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.length, 1);

    const urls = [...new Set(readFileSync(log, "utf8").split("\n").filter((u) => u.startsWith("file:")))];
    const packages = new Set(urls.map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter((p) => p !== undefined));
    // zod and commander are inlined; serve, mcp and PostgreSQL load their stacks only when used.
    assert.deepEqual([...packages], ["better-sqlite3"], urls.join("\n"));
    const own = urls.filter((u) => !u.includes("/node_modules/")).map((u) => fileURLToPath(u));
    assert.ok(own.length >= 1 && own.every((f) => f.startsWith(join(CLI, ".."))), own.join("\n"));
    // A size budget, not a timing: start-up cost grows with the code parsed.
    // Today about 230 KB; a regression such as `import { z } from "zod"`
    // (every locale, +600 KB) or a heavy static import fails here.
    const bytes = own.reduce((sum, f) => sum + statSync(f).size, 0);
    assert.ok(bytes < 400_000, `list loads ${bytes} bytes of JavaScript`);
  });
});
