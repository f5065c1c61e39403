// Post-build: bundle the dashboard's browser code into one small script and
// copy its static files beside the compiled server module that serves them.
import { cpSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

const out = "dist/doors/web/assets";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/doors/web/client/main.ts"],
  outfile: `${out}/app.js`,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome120", "firefox120"],
  sourcemap: false,
  logLevel: "warning",
});
for (const f of ["index.html", "style.css", "favicon.svg"]) cpSync(`src/doors/web/assets/${f}`, `${out}/${f}`);
