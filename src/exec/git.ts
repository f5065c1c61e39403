/** Running git for the ledger's git commands: bounded in time, never through a shell. */
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { LedgerError } from "../core/errors.js";
import { gitProgram } from "./programs.js";
import { CREDENTIAL } from "../core/credentials.js";

/** The file at a repository's root that names the ledger its agents and git hooks use (doors/cli/ledger-config.ts reads it). */
export const LEDGER_PIN = ".workledger";

export interface GitOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
}

/** git run for `agent`: its hooks (the branch fence) know whose update it is, however workledger was told the name. */
export const asAgent = (agent: string | undefined, env: NodeJS.ProcessEnv = process.env): GitOptions => ({ env: agent === undefined ? env : { ...env, WORKLEDGER_AGENT: agent } });

/**
 * The work tree `dir` is in, from one git call: its top-level directory
 * (spelled as `dir` when it is that directory, symbolic links aside) and its
 * repository, named by the main work tree (mainWorkTree's rule): what a
 * verification records of where it ran, and what done compares it with.
 */
export function repositoryOf(dir: string): { top?: string; repo?: string } {
  const out = git(dir, ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"]);
  const [top, common] = out?.split("\n") ?? [];
  if (!top || !common) return {};
  const main = /\/\.git\/?$/.test(common) ? common.replace(/\/\.git\/?$/, "") : top;
  try {
    return { top: realpathSync(top) === realpathSync(dir) ? dir : top, repo: realpathSync(main) };
  } catch {
    return { top, repo: main };
  }
}

/**
 * The files whose lines added between two commits or trees hold a credential
 * (CREDENTIAL): new files whole, and what was added to tracked ones
 * (thirty-sixth trials: a token appended to a tracked file went in). Binary
 * files are not read.
 */
export function credentialsAdded(dir: string, from: string, to: string): string[] {
  const diff = git(dir, ["diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", "--src-prefix=a/", "--dst-prefix=b/", from, to]) ?? "";
  const out = new Set<string>();
  let file = "";
  for (const line of diff.split("\n")) {
    if (line.startsWith("+++ ")) file = line.startsWith("+++ b/") ? line.slice(6) : "";
    else if (file && line.startsWith("+") && CREDENTIAL.test(line)) out.add(file);
  }
  return [...out];
}

/** git's output (trimmed), or null when it failed. */
export function git(dir: string, args: string[], opts: GitOptions = {}): string | null {
  try {
    return run(dir, args, opts);
  } catch {
    return null;
  }
}

/** git's output (trimmed); a failure is UNAVAILABLE with git's own words and `what` the caller was doing. */
export function gitOrFail(dir: string, args: string[], what: string, opts: GitOptions = {}): string {
  try {
    return run(dir, args, opts);
  } catch (e) {
    const said = String((e as { stderr?: unknown }).stderr ?? (e as Error).message)
      .trim()
      .split("\n")
      .slice(-3)
      .join("; ");
    throw new LedgerError("UNAVAILABLE", `git could not ${what} in ${dir}: ${said}`, { hint: "fix what git says and run it again", details: { dir, git: args } });
  }
}

/**
 * Settings of a repository that make git start a program of its own while
 * workledger asks it a question (core.fsmonitor runs a command on every
 * status): off for workledger's git calls, so a work tree's config never runs
 * code through them (twenty-sixth MCP trial). Nor does git go into a nested
 * repository (a submodule) of the work tree: its config is the work tree's,
 * writable to a verification command, and its fsmonitor ran as the verifier
 * (twenty-seventh MCP trial); every `status` also says `--ignore-submodules=dirty`.
 * Nor does it run hooks: a relative core.hooksPath (husky's) is found in each
 * worktree's files, and hooks another agent committed there ran as the next
 * holder in workledger's own `status`, `reset` and `update-ref` (thirty-second
 * MCP trial). workledger checks the lease itself before it moves a branch.
 */
export const SAFE = ["-c", "core.fsmonitor=false", "-c", "submodule.recurse=false"];
/** What workledger asks git that reads the hooks setting itself (where the hooks are): the override would answer it. */
const ASKS_ABOUT_HOOKS = new Set(["config", "rev-parse"]);
const NO_HOOKS = ["-c", "core.hooksPath=/dev/null"];
/** git's arguments as workledger runs it: SAFE, and no hook run by anything it asks (see SAFE). */
export const safeArgs = (args: readonly string[]): string[] => [...SAFE, ...(ASKS_ABOUT_HOOKS.has(args[0]!) ? [] : NO_HOOKS), ...args];
/**
 * Keeps `paths` (relative to the work tree `dir` is the top of) out of git:
 * listed in the repository's info/exclude, which every worktree of it shares.
 * Returns those of them git already tracks (excluding does not untrack them).
 */
export function excludeFromGit(dir: string, paths: readonly string[]): string[] {
  const file = git(dir, ["rev-parse", "--path-format=absolute", "--git-path", "info/exclude"]);
  if (file === null) return [];
  const had = existsSync(file) ? readFileSync(file, "utf8").split("\n") : [];
  const add = paths.map((p) => `/${p}`).filter((p) => !had.includes(p));
  if (add.length > 0) {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, (had.length > 0 && had.at(-1) !== "" ? "\n" : "") + add.join("\n") + "\n");
  }
  return paths.filter((p) => git(dir, ["ls-files", "--error-unmatch", "--", p]) !== null);
}

/** `git status` without looking into submodules: their HEADs are compared, nothing of theirs runs. */
export const STATUS = ["status", "--ignore-submodules=dirty"];

/**
 * A checked-out submodule of the work tree `dir` is in: its path, and whether its
 * repository is one git may look into. One `git submodule` makes (a `.git`
 * file naming a directory in the repository's own git directory) keeps its
 * config where a verification command cannot write; a `.git` directory (or
 * a file naming any other place) is the work tree's, whose config could run
 * code as whoever next asks git about it (twenty-seventh and twenty-eighth
 * MCP trials: fsmonitor in a nested repository).
 */
export interface Submodule {
  path: string;
  safe: boolean;
}

export function submodules(dir: string): Submodule[] {
  const [top, common] = git(dir, ["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"])?.split("\n") ?? [];
  const listed = top === undefined ? null : git(top, ["ls-files", "--stage", "-z"]);
  if (listed === null || top === undefined || common === undefined) return [];
  // In the repository's own git directory (a linked worktree's submodules are under its worktrees/<name>/modules).
  const modules = common + sep;
  return listed.split("\0").flatMap((entry) => {
    if (!entry.startsWith("160000 ")) return [];
    const path = entry.slice(entry.indexOf("\t") + 1);
    const dotGit = join(top, path, ".git");
    let st;
    try {
      st = lstatSync(dotGit);
    } catch {
      return []; // not checked out
    }
    if (!st.isFile()) return [{ path, safe: false }];
    const named = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1];
    return [{ path, safe: named !== undefined && resolve(join(top, path), named.trim()).startsWith(modules) }];
  });
}

function run(dir: string, args: string[], opts: GitOptions): string {
  return execFileSync(gitProgram(), safeArgs(args), {
    cwd: dir,
    encoding: "utf8",
    stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(opts.input === undefined ? {} : { input: opts.input }),
    env: gitEnv(opts.env ?? process.env),
  }).trim();
}

/**
 * Variables that point git at another repository, work tree or index than
 * the directory's own: workledger asks git about the directory it names
 * (twenty-second trials: GIT_DIR and GIT_WORK_TREE of a worktree made a
 * pass in another directory read as one on the WO's branch).
 */
const ELSEWHERE = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE"];

/** `env` for workledger's own git calls: the directory's repository as it is (NO_REPLACE, none of ELSEWHERE). */
export function gitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, ...NO_REPLACE };
  for (const k of ELSEWHERE) delete out[k];
  return out;
}

/**
 * workledger reads commits as they are: `git replace` makes a commit show
 * another's content, so a verify on replaced work read clean (twenty-first
 * MCP trial: a checkpoint of broken work passed for another commit's).
 */
export const NO_REPLACE = { GIT_NO_REPLACE_OBJECTS: "1" } as const;

/** The main work tree of the repository `dir` is in (from a linked worktree too). */
export function mainWorkTree(dir: string): string {
  const common = git(dir, ["rev-parse", "--path-format=absolute", "--git-common-dir"]);
  if (common === null)
    throw new LedgerError("VALIDATION", `dir: ${dir} is not in a git repository`, {
      hint: "run it in the repository the work order is about, or give its path ({{dir=PATH}})",
      details: { issues: [{ field: "dir", message: "not a git repository" }] },
    });
  // A repository whose git directory is not `<root>/.git` (GIT_DIR elsewhere): the work tree git names.
  return /\/\.git\/?$/.test(common) ? common.replace(/\/\.git\/?$/, "") : gitOrFail(dir, ["rev-parse", "--show-toplevel"], "find the work tree");
}

/**
 * Files git was told not to look at (`update-index --skip-worktree` or
 * `--assume-unchanged`) that are in the work tree and differ from what is
 * committed: `git status` does not show them, so a pass on them would read
 * as clean (nineteenth trials). A sparse checkout's skipped files are not in
 * the work tree and do not count; elsewhere one deleted does. Paths are the work tree's top's.
 */
export function hiddenChanges(dir: string): string[] {
  // From the top, so a verify run in a subdirectory sees the whole work tree's (and paths are the top's).
  const top = git(dir, ["rev-parse", "--show-toplevel"]);
  const listed = top === null ? null : git(top, ["ls-files", "-v", "-z"]);
  if (top === null || listed === null) return [];
  const hidden = listed
    .split("\0")
    .filter((l) => /^(S|[a-z]) /.test(l))
    .map((l) => l.slice(2));
  // A file skipped by a sparse checkout is absent by design; in a full checkout, absent is a deletion hidden from git
  // status (twenty-third trials: a deleted file that made the test fail, hidden with --skip-worktree).
  const sparse = git(top, ["config", "--bool", "core.sparseCheckout"]) === "true";
  return hidden.filter((f) => {
    if (!existsSync(join(top, f))) return !sparse;
    const blob = git(top, ["rev-parse", `HEAD:${f}`]);
    const now = git(top, ["hash-object", "--", f]);
    return blob === null || now !== blob;
  });
}

/**
 * Where `refs/heads/<branch>` is a symbolic ref (`git symbolic-ref
 * refs/heads/<branch> refs/heads/<other>`), the branch it names: git runs no
 * hook for that, so the branch fence never sees it, and every commit made "on"
 * the branch lands on the other (twenty-second trials). Else null.
 */
export function redirectOf(dir: string, branch: string): string | null {
  const to = git(dir, ["symbolic-ref", "--quiet", `refs/heads/${branch}`]);
  return to ? to.replace(/^refs\/heads\//, "") : null;
}

/** The branch `dir`'s HEAD names itself, before git follows a symbolic ref (git symbolic-ref HEAD follows them all). */
export function headNames(dir: string): string | null {
  const gitDir = git(dir, ["rev-parse", "--absolute-git-dir"]);
  if (gitDir === null) return null;
  try {
    return /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(join(gitDir, "HEAD"), "utf8"))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** The refusal for a WO's branch made a symbolic ref to `target`: its holder's `worktree` makes it a branch again (exec/worktree.ts). */
export function redirected(branch: string, target: string, did: string): LedgerError {
  return new LedgerError(
    "VALIDATION",
    `${branch} is a symbolic ref to ${target} (made with git symbolic-ref, which no git hook sees): a commit "on" ${branch} lands on ${target}, and ${target}'s commits read as ${branch}'s; ${did}`,
    {
      hint: `its holder's {{op:worktree}} makes it a branch again, at its last checkpoint (else the default branch's tip); then run this again`,
      details: { branch, symref_to: target },
    },
  );
}

/** The repository's core.hooksPath when it is relative (git resolves it in each worktree), else null. */
export function relativeHooksPath(dir: string): string | null {
  const configured = git(dir, ["config", "--get", "core.hooksPath"]);
  return configured !== null && configured !== "" && !isAbsolute(configured) && !configured.startsWith("~") ? configured : null;
}
