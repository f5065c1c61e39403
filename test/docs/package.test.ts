/**
 * What `npm pack` puts in the package (issue 30): what a user runs and reads,
 * and nothing else: no tests or sources, no source maps (their sources are
 * not in it), no ledgers, keys or settings of the machine that packed it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("npm pack", () => {
  it("holds the built package, its docs and manifest, and nothing else", () => {
    // --ignore-scripts: `prepare` would build again; the suite runs after the build.
    const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as {
      files: { path: string }[];
    }[];
    const paths = pack!.files.map((f) => f.path);
    const outside = paths.filter((p) => !p.startsWith("dist/") && !["package.json", "README.md", "SKILL.md", "SKILL-REFERENCE.md"].includes(p));
    assert.deepEqual(outside, [], "only dist/, the manifest and the docs");
    const unwanted = paths.filter((p) => /\.map$|(^|\/)(test|src)\/|\.(db|db-wal|db-shm|pem|key|env|tsbuildinfo)$|(^|\/)\.npmrc$|(^|\/)\.env/.test(p));
    assert.deepEqual(unwanted, [], "no source maps, tests, sources, ledgers, keys or settings");
    const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { bin: Record<string, string>; main: string; exports: { ".": { types: string; import: string } } };
    for (const needed of [...Object.values(manifest.bin), manifest.main, manifest.exports["."].types, manifest.exports["."].import])
      assert.ok(paths.includes(needed.replace(/^\.\//, "")), `${needed} is in it`);
    // What the built code reads beside itself at run time: the migrations of both stores, the dashboard's assets.
    for (const dir of ["dist/storage/sqlite/migrations/", "dist/storage/postgres/migrations/", "dist/doors/web/assets/"])
      assert.ok(
        paths.some((p) => p.startsWith(dir)),
        `${dir} is in it`,
      );
  });
});
