/**
 * What a WO's work changes beyond its stated scope: files outside its
 * `files`, and links pointing out of the work tree. Said when the work is
 * checkpointed and when the next holder's worktree starts from it (thirty-first
 * MCP trial: a checkpoint took a changed test script and a link to the
 * verifier's credentials along, and the next holder was told nothing). Work
 * merged in from its done dependencies is theirs, not counted.
 */
import { isAbsolute, normalize } from "node:path";
import type { LedgerApi } from "../core/api.js";
import { outsideFiles } from "../core/files.js";
import { CLIENT_FILES } from "../core/sandbox.js";
import { label } from "../core/types.js";
import { git } from "./git.js";

/** The names of what runs outside the sandbox, at any depth (a monorepo package's own): clients' and tools' files, committed git hooks' usual folders. */
const RUNS_OUTSIDE = new Set([...CLIENT_FILES, ".husky", ".githooks"]);

/** A done dependency's work: its branch and last checkpoint. */
export interface DependencyWork {
  id: number;
  branch: string;
  commit: string;
}

/** The done dependencies of `wo` that have checkpointed work. */
export async function dependencyWork(ledger: LedgerApi, wo: { project: string; depends_on: readonly number[] }): Promise<DependencyWork[]> {
  const out: DependencyWork[] = [];
  for (const id of wo.depends_on) {
    const dep = await ledger.get({ project: wo.project, id }).catch(() => null);
    const last = dep?.checkpoints.at(-1);
    if (dep && last && dep.status === "done") out.push({ id, branch: dep.branch, commit: last.commit });
  }
  return out;
}

/** Warnings about the commits from `base` to `tip` in the repository at `dir`, for WO `wo`, leaving out its dependencies' work. */
export function scopeWarnings(dir: string, base: string, tip: string, wo: { id: number; files: readonly string[] }, deps: readonly DependencyWork[]): string[] {
  const excluded = deps.map((d) => d.commit).filter((c) => git(dir, ["cat-file", "-e", `${c}^{commit}`]) !== null);
  const listed = git(dir, ["log", "--format=", "--name-only", "-z", `${base}..${tip}`, ...(excluded.length ? ["--not", ...excluded] : [])]);
  const paths = [...new Set((listed ?? "").split(/[\0\n]/).filter(Boolean))].sort();
  if (paths.length === 0) return [];
  const out: string[] = [];
  const outside = outsideFiles(paths, wo.files);
  if (outside.length > 0)
    out.push(
      `${label(wo.id)} lists files ${wo.files.join(", ")}; this work also changes ${outside.slice(0, 10).join(", ")}${outside.length > 10 ? ", …" : ""}: outside its scope, read those changes before you build on them`,
    );
  // Whatever the scope: files a client, a shell, git or npm runs from the tree outside any sandbox (thirty-second trials: a
  // WO whose files were "**" handed the next holder an .npmrc whose script-shell ran as it on its next npm test).
  const tools = paths.filter((p) => p.split("/").some((part) => RUNS_OUTSIDE.has(part)));
  if (tools.length > 0)
    out.push(
      `this work adds or changes ${tools.slice(0, 5).join(", ")}${tools.length > 5 ? ", …" : ""}: files your client, shell, git or npm runs outside any sandbox; read them before you run anything here`,
    );
  // Links as the tip has them: "<mode> <type> <object>\t<path>" per entry.
  const tree = git(dir, ["ls-tree", "-z", tip, "--", ...paths.slice(0, 500)]) ?? "";
  const links = tree
    .split("\0")
    .filter((e) => e.startsWith("120000 "))
    .map((e) => ({ path: e.slice(e.indexOf("\t") + 1), object: e.split(" ")[2]!.split("\t")[0]! }))
    .filter((l) => escapes(l.path, git(dir, ["cat-file", "blob", l.object]) ?? ""));
  if (links.length > 0)
    out.push(`${links.map((l) => l.path).join(", ")}: a link pointing outside the work tree; whatever runs it reads what it points at (a credential file, another home)`);
  return out;
}

/** Whether a link at `path` in the work tree, pointing at `target`, leads out of it. */
function escapes(path: string, target: string): boolean {
  if (isAbsolute(target)) return true;
  const at = normalize(`${path}/../${target}`);
  return at === ".." || at.startsWith("../");
}
