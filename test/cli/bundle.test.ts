/**
 * The bin is a launcher plus an esbuild bundle run with V8's code cache
 * (scripts/bundle-cli.mjs, src/doors/cli/code-cache.ts). These check what that
 * could silently break: files found relative to the code, how little a common
 * command loads, and that a bad cache file is never trusted.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const BUNDLE = join(CLI, "..", "cli.js");

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
    // demo's agents are the bin run as child processes: their claims and context reach its ledger.
    const demo = s.run(["demo", "--keep", "--json"]);
    assert.equal(demo.code, 0, demo.stderr);
    assert.equal(demo.json.ok, true);
    const history = s.run(["history", "-p", "shop", "--json"], { env: { WORKLEDGER_DB: demo.json.db } }).json as { type: string; agent: string }[];
    assert.ok(
      history.some((e) => e.type === "claimed" && e.agent === "alice"),
      JSON.stringify(history.map((e) => e.type)),
    );
    assert.ok(history.some((e) => e.type === "context_put"));
  });

  it("list loads only better-sqlite3's addon from node_modules, none of the Node modules it does not use, and little code of its own", () => {
    const recorder = join(s.dir, "record-loads.cjs");
    const log = join(s.dir, "loaded.txt");
    writeFileSync(
      recorder,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(log)}, [...Object.keys(require.cache), ...process.moduleLoadList].join("\\n")));`,
    );
    s.run(["create", "-p", "small", "--agent", "a", "--title", "x"]);
    const r = s.run(["list", "-p", "small", "--json"], { env: { NODE_OPTIONS: `--require ${recorder}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.length, 1);

    const files = readFileSync(log, "utf8").split("\n");
    const packages = new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1]).filter((p) => p !== undefined));
    // zod, commander and better-sqlite3's JavaScript are inlined (only its addon is loaded);
    // serve, mcp and PostgreSQL load their stacks only when used.
    assert.deepEqual([...packages], ["better-sqlite3"], files.join("\n"));
    assert.ok(
      files.every((f) => !f.includes("node_modules") || f.endsWith(".node")),
      files.filter((f) => f.includes("node_modules")).join("\n"),
    );
    // Built-ins a list never uses are loaded on first use only (scripts/bundle-cli.mjs, issue 27).
    for (const m of ["crypto", "child_process", "http", "https", "dns"]) assert.ok(!files.includes(`NativeModule ${m}`), `list loaded node:${m}`);
    // A size budget, not a timing: start-up cost grows with the code compiled.
    // Today about 560 KB (better-sqlite3's JavaScript, 17 KB, is inlined to be code-cached with the rest; export/import and the
    // branch fence added 17 KB in session 16, prune and the round 20-22 checks 22 KB in session 17, the sandbox's
    // and the git fence's round 25-29 checks and `skill` 18 KB in sessions 19-20: 591 KB);
    // a regression such as `import { z } from "zod"` (every locale, +600 KB) fails here.
    const bytes = statSync(CLI).size + statSync(BUNDLE).size;
    assert.ok(bytes < 615_000, `the bin is ${bytes} bytes of JavaScript`);
  });
});

describe("code cache", () => {
  let s: Sandbox;
  let env: Record<string, string>;
  const cacheFile = () => {
    const files = readdirSync(env.WORKLEDGER_CODE_CACHE!);
    assert.equal(files.length, 1, files.join(", "));
    return join(env.WORKLEDGER_CODE_CACHE!, files[0]!);
  };
  const listWorks = () => {
    const r = s.run(["list", "-p", "cc", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json[0].title, "cached");
  };
  before(() => {
    s = sandbox();
    env = { WORKLEDGER_CODE_CACHE: join(s.dir, "code-cache") };
    assert.equal(s.run(["create", "-p", "cc", "--agent", "a", "--title", "cached"], { env }).code, 0);
  });
  after(() => s.cleanup());

  it("is written once and then used as is", () => {
    const first = statSync(cacheFile());
    listWorks();
    const second = statSync(cacheFile());
    // Rewriting goes through a rename, which gives a new inode.
    assert.equal(second.ino, first.ino, "an accepted cache is not rewritten");
    assert.equal(second.mtimeMs, first.mtimeMs);
  });

  it("ignores and replaces a corrupt, truncated or foreign file", () => {
    const corruptions: Record<string, (b: Buffer) => Buffer> = {
      "flipped bytes in the data": (b) => {
        const c = Buffer.from(b);
        for (let i = c.length - 4000; i < c.length; i += 97) c[i] = c[i]! ^ 0xff;
        return c;
      },
      truncated: (b) => b.subarray(0, Math.floor(b.length / 2)),
      "another Node's key": (b) => Buffer.from(b.toString("latin1").replace(process.version, "v0.0.0".padEnd(process.version.length, "0")), "latin1"),
      garbage: () => Buffer.from("not a cache at all"),
      empty: () => Buffer.alloc(0),
    };
    for (const [what, corrupt] of Object.entries(corruptions)) {
      const path = cacheFile();
      const good = readFileSync(path);
      writeFileSync(path, corrupt(good));
      const planted = statSync(path).ino;
      listWorks();
      assert.notEqual(statSync(cacheFile()).ino, planted, `${what}: replaced by a fresh cache`);
      listWorks();
    }
  });

  it("is skipped with WORKLEDGER_CODE_CACHE=off", () => {
    const off = { WORKLEDGER_CODE_CACHE: "off", XDG_CACHE_HOME: join(s.dir, "xdg"), HOME: join(s.dir, "home") };
    const r = s.run(["--version"], { env: off });
    assert.equal(r.code, 0, r.stderr);
    assert.throws(() => readdirSync(join(s.dir, "xdg")), { code: "ENOENT" });
    assert.throws(() => readdirSync(join(s.dir, "home")), { code: "ENOENT" });
  });
});
