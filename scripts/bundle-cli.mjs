// Post-build: replace tsc's many CLI modules with two esbuild bundles in
// dist/doors/cli/:
//   main.js  the bin (src/doors/cli/main.ts): loads cli.js with V8's code cache
//   cli.js   the CLI itself (src/doors/cli/cli.ts, which runs program.ts)
// The bin keeps its path, so the MCP configurations agent-setup wrote and
// every helper that spawns dist/doors/cli/main.js keep working. The library
// entry (dist/index.js) stays tsc's output; only the CLI is bundled.
//
// Why: every `workledger` call is a fresh process, and loading ~60 own
// modules plus zod's ~100 and commander through Node's loader, then compiling
// them, cost more than the command itself (docs/PERFORMANCE.md).
//
// Choices, each measured:
// * CommonJS, not ESM: a CommonJS entry skips Node's ESM loader, and only a
//   classic script can use V8's code cache on Node 20 (vm.Script cachedData).
//   dist/doors/cli/package.json says "commonjs" because the package is ESM.
//   esbuild turns each `await import()` into a lazily run module wrapper whose
//   require() calls run only when it is first used, so serve, mcp and
//   PostgreSQL still load hono, the MCP SDK and pg only when they run.
//   The price: the CLI cannot top-level await, and an external dependency must
//   be loadable with require() (all of ours are).
// * Native and heavy dependencies stay external and load from node_modules;
//   only zod and commander (many small pure-JS files) are inlined.
// * import.meta.url: code that finds files next to itself (migrations, the
//   package.json version, the CLI's own path) must see the URL its tsc twin
//   would have, not the bundle's. See `twinUrl` below.
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, relative, resolve } from "node:path";
import { build } from "esbuild";

const SRC = resolve("src");
const DIST = resolve("dist");
const OUT = resolve("dist/doors/cli");

/** Pure-JS dependencies whose many modules are worth inlining; every other dependency stays external. */
const INLINED = new Set(["zod", "commander", "better-sqlite3"]);
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !INLINED.has(d));

/**
 * Rewrites `import.meta.url` in each source module to the URL of the file tsc
 * emits for it (e.g. dist/storage/sqlite/migrate.js), computed from the
 * bundle's own path. Paths derived from it, like
 * `new URL("./migrations/", import.meta.url)`, then resolve exactly as in the
 * unbundled library, including in code other doors add later.
 */
const twinUrl = {
  name: "tsc-twin-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(SRC)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const twin = resolve(DIST, relative(SRC, args.path)).replace(/\.ts$/, ".js");
      const rel = relative(OUT, twin).split("\\").join("/");
      const url = `new URL(${JSON.stringify(rel)}, require("node:url").pathToFileURL(__filename)).href`;
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts", resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Node built-ins most commands never touch (crypto, child processes, HTTP,
 * DNS, sockets) are required on first use instead of when the bundle starts:
 * a bundle hoists every module's imports, and loading these cost a `list`
 * about 9 ms of its start (docs/PERFORMANCE.md). Each import becomes a small module
 * whose functions require the real one when first called; a default import
 * (`import http from "node:http"`) reads through to it.
 */
const LAZY_BUILTINS = /^node:(crypto|child_process|http|https|dns|dns\/promises|net)$/;
const requireHere = createRequire(import.meta.url);
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) => (args.namespace === "lazy-builtin" ? { path: args.path, external: true } : { path: args.path, namespace: "lazy-builtin" }));
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => {
      const real = requireHere(args.path);
      const names = Object.keys(real).filter((k) => typeof real[k] === "function" && /^[A-Za-z_$][\w$]*$/.test(k) && k !== "default");
      const contents = [
        `let loaded;`,
        `const __real = () => (loaded ??= require(${JSON.stringify(args.path)}));`,
        ...names.map((n) => `export function ${n}(...a) { return new.target ? new (__real().${n})(...a) : __real().${n}(...a); }`),
        `export default new Proxy({}, { get: (_, k) => __real()[k] });`,
      ].join("\n");
      return { contents, loader: "js" };
    });
  },
};

// tsc's CLI output is superseded by the bundles; leaving it would ship a
// second, unused copy of the CLI next to them.
rmSync(OUT, { recursive: true, force: true });

const result = await build({
  entryPoints: { main: "src/doors/cli/main.ts", cli: "src/doors/cli/cli.ts" },
  outdir: OUT,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external,
  minify: true,
  // Maps minified positions back to src/ for whoever debugs a stack trace.
  sourcemap: "linked",
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
  plugins: [twinUrl, lazyBuiltins],
});

writeFileSync(resolve(OUT, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n");
chmodSync(resolve(OUT, "main.js"), 0o755);

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const sizes = Object.entries(result.metafile.outputs)
  .filter(([f]) => f.endsWith(".js"))
  .map(([f, o]) => `${f.split("/").pop()} ${kb(o.bytes)}`);
console.error(`bundled the CLI: ${sizes.join(", ")}`); // stderr: stdout belongs to whoever runs the build (npm pack --json)
