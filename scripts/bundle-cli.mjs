// Post-build: replace tsc's many CLI modules with one esbuild bundle at the
// same path (dist/doors/cli/main.js), so that the bin, the MCP configurations
// that agent-setup wrote, and the test helpers keep pointing at the right file.
//
// Why: every `workledger` call is a fresh process, and loading ~60 own modules
// plus zod's ~100 and commander through Node's ESM loader cost more than the
// command itself (docs/PERFORMANCE.md). The library entry (dist/index.js)
// stays tsc's output; only the CLI is bundled.
//
// Constraints the bundle keeps:
// * Native and heavy dependencies stay external and load from node_modules
//   as before; only zod and commander (many small files, pure JS) are inlined.
// * Code splitting keeps every `await import()` lazy (serve, mcp, PostgreSQL,
//   ...): without it esbuild would hoist the static imports of those modules,
//   and pg, hono and the MCP SDK would load for every command.
// * import.meta.url: code that finds files next to itself (migrations, the
//   package.json version, the CLI's own path) must see the URL its tsc twin
//   would have, not the bundle's. See `twinUrl` below.
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { build } from "esbuild";

const SRC = resolve("src");
const DIST = resolve("dist");
const OUT = resolve("dist/doors/cli");
const ENTRY = "src/doors/cli/main.ts";

/** Pure-JS dependencies whose many modules are worth inlining; every other dependency stays external. */
const INLINED = new Set(["zod", "commander"]);
const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !INLINED.has(d));

/**
 * Rewrites `import.meta.url` in each source module to the URL of the file tsc
 * emits for it (e.g. dist/storage/sqlite/migrate.js), computed from the
 * bundle's own URL. All output files sit in one folder, so the same relative
 * path works from the entry and from every chunk. Paths derived from it, like
 * `new URL("./migrations/", import.meta.url)`, then resolve exactly as they do
 * in the unbundled library, including in code added later by other doors.
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
      return { contents: source.replaceAll("import.meta.url", `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: "ts", resolveDir: dirname(args.path) };
    });
  },
};

// tsc's CLI output is superseded by the bundle; leaving it would ship a second,
// unused copy of the CLI and stale source maps next to the bundle.
rmSync(OUT, { recursive: true, force: true });

const result = await build({
  entryPoints: { main: ENTRY },
  outdir: OUT,
  entryNames: "[name]",
  chunkNames: "[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external,
  // Inlined CommonJS (commander) calls require() for Node built-ins, which ESM lacks.
  banner: { js: 'import { createRequire as __workledgerCreateRequire } from "node:module";\nconst require = __workledgerCreateRequire(import.meta.url);' },
  minify: true,
  // Stack traces (WORKLEDGER_DEBUG=1) map back to src/ with node --enable-source-maps.
  sourcemap: "linked",
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
  plugins: [twinUrl],
});

chmodSync(resolve(OUT, "main.js"), 0o755);

const files = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(".js"));
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const entry = files.find(([f]) => f.endsWith("/main.js"));
console.log(`bundled the CLI: ${files.length} files, ${kb(files.reduce((a, [, o]) => a + o.bytes, 0))}; main.js ${kb(entry?.[1].bytes ?? 0)}`);
