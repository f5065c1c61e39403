/** Reading free-form input (message bodies, batch files) and the caller's git state. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseDuration } from "../../core/duration.js";
import { LedgerError } from "../../core/errors.js";
import type { LocalRepository } from "../../core/freshness.js";
import type { GitState } from "../../core/types.js";
import { gitEnv, hiddenChanges, repositoryOf, safeArgs, STATUS, submodules } from "../../exec/git.js";
import { gitProgram } from "../../exec/programs.js";
import { utf8 } from "../../core/validate.js";
import { str, type Opts } from "./invocation.js";

export function usage(field: string, message: string, hint?: string): LedgerError {
  return new LedgerError("VALIDATION", `${field}: ${message}`, { ...(hint === undefined ? {} : { hint }), details: { issues: [{ field, message }] } });
}

/** A polling interval flag (watch, keepalive): a duration of at least `minMs`. */
export function intervalMs(text: string, minMs: number): number {
  const ms = parseDuration(text);
  if (ms === null || ms < minMs) throw usage("interval", `must be a duration like 500ms or 5s (at least ${minMs}ms), got ${JSON.stringify(text)}`);
  return ms;
}

export function readFileArg(path: string, field: string): string {
  let bytes: Buffer;
  try {
    bytes = path === "-" ? readFileSync(0) : readFileSync(path);
  } catch (e) {
    throw usage(field, `cannot read ${path === "-" ? "stdin" : path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "give a readable file, or - for stdin");
  }
  return utf8(bytes, field);
}

/**
 * Node turns bytes of the command line that are not UTF-8 into U+FFFD, so
 * only then are the raw bytes read back (Linux) to tell them from a real
 * U+FFFD, and refused like invalid UTF-8 anywhere else.
 */
export function checkArgvUtf8(argv: readonly string[], cmdline = "/proc/self/cmdline"): void {
  const user = argv.slice(2);
  if (!user.some((a) => a.includes("\ufffd")) || !existsSync(cmdline)) return;
  const raw = readFileSync(cmdline).toString("latin1").split("\0").slice(0, -1);
  raw.slice(raw.length - user.length).forEach((a, i) => {
    const flag = user[i - 1]?.startsWith("-") ? user[i - 1] : undefined;
    utf8(Buffer.from(a, "latin1"), flag ?? `argument ${i + 1}`);
  });
}

/** A body from -m (or --body, the field's name in JSON, which agents guess), --body-file or piped stdin, in that order. */
export function readBody(o: Opts): string {
  const [m, b] = [str(o.message), str(o.body)];
  if (m !== undefined && b !== undefined && m !== b) throw usage("body", "-m and --body are the same option, given twice", "pass the text once");
  if (m !== undefined || b !== undefined) return (m ?? b)!;
  const file = str(o.bodyFile);
  if (file !== undefined) return readFileArg(file, "body-file");
  if (process.stdin.isTTY) throw usage("body", "no body given", "pass -m TEXT, --body-file FILE, or pipe the text on stdin");
  return readFileArg("-", "body");
}

export function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw usage(field, `not valid JSON: ${(e as Error).message}`, 'give a JSON array of work orders, e.g. [{"title":"…"}]');
  }
}

/**
 * HEAD and branch of the work tree we run in, read from the repository's
 * files without running git (a command that only judges context by them,
 * like claim or get, then starts no process: docs/PERFORMANCE.md); `dirty`
 * is not looked at (false). Anything it does not know how to read (GIT_DIR
 * set, an unborn branch, another ref store) is asked of git (gitState).
 */
export function headState(cwd = process.cwd()): GitState | null {
  if (process.env.GIT_DIR !== undefined) return gitState(cwd);
  const found = gitDirOf(cwd);
  if (found === undefined) return null; // not in a work tree: git would say so too
  try {
    const { dir, common } = found;
    const head = readFileSync(join(dir, "HEAD"), "utf8").trim();
    if (/^[0-9a-f]{40,64}$/.test(head)) return { head, branch: null, dirty: false };
    const ref = /^ref: (refs\/heads\/.+)$/.exec(head)?.[1];
    if (ref === undefined) return gitState(cwd);
    const loose = existsSync(join(common, ref)) ? readFileSync(join(common, ref), "utf8").trim() : undefined;
    const packed = loose ?? packedRef(join(common, "packed-refs"), ref);
    return packed !== undefined && /^[0-9a-f]{40,64}$/.test(packed) ? { head: packed, branch: ref.slice("refs/heads/".length), dirty: false } : gitState(cwd);
  } catch {
    return gitState(cwd);
  }
}

/** The git directory of the work tree `cwd` is in, and the common one (a linked worktree's is the main repository's); undefined outside any. */
function gitDirOf(cwd: string): { dir: string; common: string } | undefined {
  for (let at = resolve(cwd); ; at = dirname(at)) {
    const dotGit = join(at, ".git");
    if (existsSync(dotGit)) {
      const linked = statSync(dotGit).isFile() ? /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim() : undefined;
      const dir = linked === undefined ? dotGit : resolve(at, linked);
      const commondir = join(dir, "commondir");
      return { dir, common: existsSync(commondir) ? resolve(dir, readFileSync(commondir, "utf8").trim()) : dir };
    }
    if (dirname(at) === at) return undefined;
  }
}

/**
 * The repository `cwd` stands in, as freshness needs it (core/freshness.ts
 * onItsBranch): branch tips read from its files; ancestry asked of git, which
 * only happens when a tip differs from what an entry was saved on.
 */
export function localRepository(cwd = process.cwd()): LocalRepository {
  const found = gitDirOf(cwd);
  return {
    root: () => (found === undefined ? undefined : repositoryOf(cwd).repo),
    tip(branch) {
      if (found === undefined || !/^[\w./-]+$/.test(branch) || branch.includes("..")) return undefined;
      const ref = `refs/heads/${branch}`;
      const loose = join(found.common, ref);
      const sha = existsSync(loose) ? readFileSync(loose, "utf8").trim() : packedRef(join(found.common, "packed-refs"), ref);
      return sha !== undefined && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
    },
    wasAt(branch, commit) {
      if (found === undefined || !/^[\w./-]+$/.test(branch) || branch.includes("..")) return false;
      const log = join(found.common, "logs", "refs", "heads", branch);
      return (
        existsSync(log) &&
        readFileSync(log, "utf8")
          .split("\n")
          .some((l) => l.split(" ")[1] === commit)
      );
    },
    committedAt(commit) {
      if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
      try {
        return (
          execFileSync(gitProgram(), safeArgs(["log", "-1", "--format=%cI", commit]), {
            cwd,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
            timeout: 5000,
            env: GIT_ENV,
          }).trim() || undefined
        );
      } catch {
        return undefined;
      }
    },
    contains: (older, newer) => succeeds(cwd, ["merge-base", "--is-ancestor", older, newer]),
    has: (commit) => /^[0-9a-f]{40,64}$/.test(commit) && succeeds(cwd, ["cat-file", "-e", `${commit}^{commit}`]),
  };
}

/** Whether git exits 0. */
function succeeds(cwd: string, args: string[]): boolean {
  try {
    execFileSync(gitProgram(), safeArgs(args), { cwd, stdio: "ignore", timeout: 5000, env: GIT_ENV });
    return true;
  } catch {
    return false;
  }
}

function packedRef(file: string, ref: string): string | undefined {
  if (!existsSync(file)) return undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) if (line.endsWith(` ${ref}`)) return line.slice(0, line.indexOf(" "));
  return undefined;
}

/** The directory's own repository, its commits as they are (exec/git.ts gitEnv). */
const GIT_ENV = gitEnv();

/**
 * The work tree's HEAD, branch and whether it has uncommitted changes (one
 * git call), or null outside git; `saved` (context-put) counts changes hidden from git status too (the
 * twenty-first MCP trial saved a handover over an assume-unchanged edit, and
 * it read fresh).
 */
export function gitState(cwd = process.cwd(), saved = false): GitState | null {
  // A submodule git may not look into is not checked: what it holds counts as uncommitted (twenty-eighth MCP trial: a nested
  // repository's changed file made a failing commit pass as clean). The others git looks into, as it does by default.
  const unsafe = submodules(cwd).some((m) => !m.safe);
  let out: string;
  try {
    const status = unsafe ? STATUS : ["status", "--ignore-submodules=none"];
    out = execFileSync(gitProgram(), safeArgs([...status, "--porcelain=v2", "--branch"]), {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 5000,
      env: GIT_ENV,
    });
  } catch {
    return null;
  }
  let head = "";
  let branch: string | null = null;
  let dirty = false;
  for (const line of out.split("\n")) {
    if (line.startsWith("# branch.oid ")) head = line.slice(13);
    else if (line.startsWith("# branch.head ")) branch = line.slice(14) === "(detached)" ? null : line.slice(14);
    else if (line && !line.startsWith("#")) dirty = true;
  }
  if (!head || head === "(initial)") return null;
  return { head, branch, dirty: dirty || unsafe || (saved && hiddenChanges(cwd).length > 0) };
}
