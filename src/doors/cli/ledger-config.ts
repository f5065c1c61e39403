/**
 * How agents on one machine find one ledger without configuring each other
 * (DESIGN.md §9): `--db` / `WORKLEDGER_DB` (or a database or server URL)
 * first, then a `.workledger` file at the root of the git repository the
 * caller stands in, shared by the repository's worktrees, then
 * `~/.workledger/ledger.db`. The file is JSON, `{"db": "/abs/ledger.db",
 * "project": "ancc"}`, written by `init` and kept out of git (.git/info/exclude).
 *
 * Read with a few stat calls, never a `git` process: every command pays for it.
 * A ledger inside the repository is refused: a cloned repository must not pick
 * the queue (and so the verification commands) its agents work from.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { LedgerError } from "../../core/errors.js";
import { DEFAULT_DB } from "../../index.js";
import { excludeFromGit, LEDGER_PIN } from "../../exec/git.js";

export const CONFIG_FILE = LEDGER_PIN;

export interface RepoConfig {
  /** The config file, and the repository root it sits in. */
  path: string;
  root: string;
  db?: string;
  project?: string;
}

/** The main work tree's root of the git repository `dir` is in (a linked worktree leads to its main one), or null. */
export function repoRoot(dir: string): string | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const dotGit = join(d, ".git");
    if (existsSync(dotGit)) return statSync(dotGit).isFile() ? mainRoot(dotGit) : d;
    if (dirname(d) === d) return null;
  }
}

/** A linked worktree's `.git` file says `gitdir: <main>/.git/worktrees/<name>`; its `commondir` leads to `<main>/.git`. */
function mainRoot(dotGitFile: string): string | null {
  const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGitFile, "utf8"));
  if (!m) return null;
  const gitdir = resolve(dirname(dotGitFile), m[1]!.trim());
  const common = existsSync(join(gitdir, "commondir")) ? resolve(gitdir, readFileSync(join(gitdir, "commondir"), "utf8").trim()) : gitdir;
  return dirname(common);
}

/** The `.workledger` of the repository `cwd` is in, or null. */
export function findRepoConfig(cwd = process.cwd()): RepoConfig | null {
  const root = repoRoot(cwd);
  if (root === null) return null;
  const path = join(root, CONFIG_FILE);
  if (!existsSync(path)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw bad(path, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad(path, 'must be a JSON object like {"db":"/home/me/.workledger/ledger.db"}');
  const { db, project, ...rest } = parsed as Record<string, unknown>;
  if (Object.keys(rest).length) throw bad(path, `unknown field ${Object.keys(rest)[0]}; valid: db, project`);
  if (db !== undefined && (typeof db !== "string" || !db)) throw bad(path, "db must be a path");
  if (project !== undefined && typeof project !== "string") throw bad(path, "project must be a project name");
  const config: RepoConfig = { path, root };
  if (typeof db === "string") {
    const file = resolve(root, db);
    if (!relative(root, file).startsWith("..") && !isAbsolute(relative(root, file))) {
      throw bad(path, `db ${file} is inside the repository: a ledger found through a repository must live outside it`);
    }
    config.db = file;
  }
  if (typeof project === "string") config.project = project;
  return config;
}

/** Writes `.workledger` at `root` (and keeps it out of git), unless one is there: returns the one in effect. */
export function writeRepoConfig(root: string, db: string, project: string | undefined): { path: string; written: boolean } {
  const path = join(root, CONFIG_FILE);
  if (existsSync(path)) return { path, written: false };
  writeFileSync(path, JSON.stringify({ db: resolve(db), ...(project ? { project } : {}) }, null, 2) + "\n");
  excludeFromGit(root, [CONFIG_FILE]);
  return { path, written: true };
}

/**
 * The ledger a shell in `dir` with no WORKLEDGER_DB finds, made `db` where it
 * can: a model runs git in its own shell, without the MCP server's settings,
 * and the git hooks it starts then judged by another ledger, where nobody held
 * the WO (twenty-second MCP trial). Writes the repository's `.workledger` when
 * it has none; otherwise says what the hooks will use. Warnings, or none.
 */
export function pinForHooks(dir: string, db: string): string[] {
  const root = repoRoot(dir);
  if (root === null || db === ":memory:") return [];
  const config = findRepoConfig(dir);
  const found = config?.db ?? DEFAULT_DB;
  if (resolve(found) === resolve(db)) return [];
  const inside = !relative(root, resolve(db)).startsWith("..");
  if (config === null && !inside) return [`wrote ${writeRepoConfig(root, db, undefined).path} naming this ledger, so git hooks run from a shell without WORKLEDGER_DB use it`];
  return [`git hooks run from a shell without WORKLEDGER_DB use ${found}${config ? ` (${config.path})` : ""}, not this ledger (${db}): run git with WORKLEDGER_DB=${db}`];
}

const bad = (path: string, why: string) =>
  new LedgerError("VALIDATION", `${path}: ${why}`, {
    hint: `fix or remove ${path} (workledger init writes one), or give the ledger with --db / WORKLEDGER_DB`,
    details: { issues: [{ field: CONFIG_FILE, message: why }] },
  });
