/**
 * Runs a work order's verification command exactly as the WO states it, in a
 * shell, sandboxed where this machine can (exec/sandbox.ts) and without the
 * caller's secrets, with a timeout that kills the whole process group. Only
 * the tail of the output is kept: it goes into a note, and notes are read by
 * agents that pay for every byte.
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { constants, homedir } from "node:os";
import { StringDecoder } from "node:string_decoder";
import { LedgerError } from "../core/errors.js";
import type { LedgerApi } from "../core/api.js";
import type { VerificationResult } from "../core/ledger.js";
import { label, type GitState } from "../core/types.js";
import { agentName, inputs, type Inputs } from "../core/schemas.js";
import { CONTROL } from "../core/schema-fields.js";
import { noIdentity, parse } from "../core/validate.js";
import { assertCallersWork, assertRunDir, CLIENT_FILES, HOME_MARKERS, HOME_STATE_MARKERS, sandboxFor, scrubEnvironment } from "../core/sandbox.js";
import { detectSandbox, homes } from "./sandbox.js";
import { git, headNames, hiddenChanges, LEDGER_PIN, redirected, redirectOf, repositoryOf } from "./git.js";
import { scanTree } from "./tree-scan.js";
import { isDirectory, ownWorktree, worktreeTag } from "./worktree.js";

export interface VerifyRun {
  passed: boolean;
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  output_tail: string;
}

export const TAIL_CHARS = 4000;
export const DEFAULT_VERIFY_TIMEOUT_MS = 10 * 60_000;

/**
 * The output's last TAIL_CHARS characters as text every door records and
 * shows: colours and other terminal escapes left out, other control
 * characters shown as U+FFFD, no half of a character at the cut. A coloured
 * failure was refused as a field to fix and went unrecorded (twenty-seventh trials).
 */
export function printable(output: string): string {
  const plain = output.replace(ESCAPES, "").replace(CONTROLS, "\uFFFD");
  const tail = plain.slice(-TAIL_CHARS);
  return /^[\udc00-\udfff]/.test(tail) ? tail.slice(1) : tail;
}
/** CSI sequences (colours, cursor moves), OSC sequences (titles, links) and two-character escapes. */
const CONTROLS = new RegExp(CONTROL.source, "g");
const ESCAPES = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;

export function runVerification(
  [program, args]: [string, string[]],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; echo?: (chunk: Buffer) => void },
): Promise<VerifyRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    let timedOut = false;
    // One decoder per stream: a character split between two chunks is decoded whole.
    const keep = (decoder: StringDecoder) => (chunk: Buffer) => {
      opts.echo?.(chunk);
      tail = (tail + decoder.write(chunk)).slice(-2 * TAIL_CHARS);
    };
    child.stdout.on("data", keep(new StringDecoder("utf8")));
    child.stderr.on("data", keep(new StringDecoder("utf8")));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, opts.timeoutMs);
    const finish = (code: number | null, extra = "") => {
      clearTimeout(timer);
      const note = timedOut ? `\n[timed out after ${opts.timeoutMs} ms]` : extra;
      resolve({
        passed: code === 0 && !timedOut,
        exit_code: timedOut ? null : code,
        timed_out: timedOut,
        duration_ms: Date.now() - started,
        output_tail: printable(tail + note),
      });
    };
    child.on("error", (e) => finish(127, `\n[could not start: ${e.message}]`));
    // Killed by a signal of its own (not the timeout): the shell's convention, 128 + the signal's number, so no exit code means a timeout.
    child.on("close", (code, signal) => finish(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}

export type VerifyOutcome = VerificationResult & {
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  /** Who wrote the command that ran. */
  author: string | null;
  /** Variables left out of the command's environment (names only). */
  env_removed: string[];
};

/**
 * The whole `verify` step shared by the CLI and MCP doors: ask the ledger
 * which command this caller may run (the one pinned at its claim), run it
 * here, record the result with the work tree it ran in (and block on failure
 * if asked). A remote ledger knows the caller by its token; a local one needs
 * the agent's name.
 */
export async function verifyWorkOrder(
  ledger: LedgerApi,
  input: Inputs["verify"],
  opts: {
    git: (cwd: string) => GitState | null;
    echo?: (chunk: Buffer) => void;
    onStart?: (command: string) => void;
    /** Where it runs when no directory is given is the server's, not the caller's choice (MCP). */
    serverDir?: boolean;
  },
): Promise<VerifyOutcome> {
  const v = parse(inputs.verify.extend({ agent: agentName.optional() }), input);
  if (!ledger.knowsCaller && v.agent === undefined) throw noIdentity();
  const who = {
    project: v.project,
    agent: v.agent as string,
    id: v.id,
    ...(v.role ? { role: v.role } : {}),
    ...(v.lease_token !== undefined ? { lease_token: v.lease_token } : {}),
  };
  // Where it runs decides what it checks: the directory given, else the caller's worktree for the WO when it has one
  // and stands outside it (an MCP server runs in the repository, the model works in the worktree), else here.
  const own = v.dir === undefined ? await ownWorktree(ledger, who) : undefined;
  const given = resolve(v.dir ?? own ?? process.cwd());
  if (!isDirectory(given)) {
    throw new LedgerError("VALIDATION", `dir: ${given} is not a directory here`, {
      hint: "give the work tree the verification should run in; nothing was run",
      details: { issues: [{ field: "dir", message: "not a directory" }] },
    });
  }
  // It checks the work tree, not a folder of it: it runs at the top of the work tree `given` is in (a pass in a
  // subdirectory counted for done: twenty-fifth trials).
  const tree = repositoryOf(given);
  const dir = tree.top ?? given;
  const scan = scanTree(dir);
  // Judged by real paths: a link to a home is that home (thirty-fifth MCP trial: a link to the caller's own ran there).
  assertRunDir(real(dir), real(homedir()), sep, {
    inGit: tree.top !== undefined,
    homeFile: tree.top === undefined ? homeAround(dir, resolve(homedir())) : HOME_STATE_MARKERS.map((m) => join(dir, m)).find((f) => existsSync(f)),
    homesBelow: scan.homes,
    scanned: scan.complete,
    homes: tree.top === undefined ? homes() : [],
  });
  if (v.dir !== undefined) assertCallersWork(real(dir), { repo: tree.repo, callerRepo: repositoryOf(process.cwd()).repo, cwd: real(process.cwd()) }, sep);
  // The caller's own worktree for its lease needs no second look (a git call and a ledger read fewer).
  if (own === undefined) await assertNotAnotherWorktree(ledger, who, dir, v.dir !== undefined);
  const named = headNames(dir);
  if (opts.serverDir && v.dir === undefined && own === undefined && tree.top !== undefined) await assertOnItsBranch(ledger, who, dir, named);
  const target = named === null ? null : redirectOf(dir, named);
  if (named !== null && target !== null) throw redirected(named, target, "nothing was run");
  const keyed = v.idempotency_key !== undefined ? { idempotency_key: v.idempotency_key } : {};
  // A keyed request names its directory: a retry elsewhere is another request.
  const {
    command,
    author,
    sandbox: rules,
    replay,
  } = await ledger.verifyCommand({ ...who, ...(v.trust ? { trust: true } : {}), ...keyed, ...(v.idempotency_key !== undefined ? { dir } : {}) });
  const { env, removed } = scrubEnvironment(process.env, rules.env, dir, sep);
  if (replay) return { ...replay, timed_out: replay.exit_code === null, author, env_removed: removed };
  const box = detectSandbox();
  const sandbox = sandboxFor(rules.required, who, box.kind, box.why);
  opts.onStart?.(command);
  // The file naming the ledger git hooks use stays as it was: rewritten, it turned every agent's hooks to another ledger (twenty-fifth trials).
  const pins = tree.repo === undefined ? [] : [...new Set([join(tree.repo, LEDGER_PIN), join(dir, LEDGER_PIN)])];
  const pinned = pins.map((p) => [p, readPin(p)] as const);
  // Where its writes stay, what runs outside the sandbox later is read-only to it, and what it makes there is removed after.
  const guarded = box.discards ? [] : [...CLIENT_FILES.map((f) => join(dir, f)), ...hooksInTree(dir)];
  const absent = guarded.filter((p) => !existsSync(p));
  // Every nested repository's .git is read-only to the command (its config and hooks run in the next git there).
  const program = box.wrap(command, dir, { network: rules.network, hide: ledgerFiles(ledger), protect: [...pins, ...scan.gits, ...guarded] });
  const before = opts.git(dir);
  // Changes hidden from git status (skip-worktree) before it ran are not the command's (twenty-sixth trials).
  const dirtyBefore = before !== null && (before.dirty || hiddenChanges(dir).length > 0);
  const run = await runVerification(program, { cwd: dir, env, timeoutMs: v.timeout ?? DEFAULT_VERIFY_TIMEOUT_MS, ...(opts.echo ? { echo: opts.echo } : {}) });
  for (const [path, was] of pinned) if (restorePin(path, was)) run.output_tail = printable(`${run.output_tail}\n[workledger restored ${path}: the command changed it]`);
  for (const made of absent.filter((p) => existsSync(p))) {
    rmSync(made, { recursive: true, force: true });
    run.output_tail = printable(`${run.output_tail}\n[workledger removed ${relative(dir, made)}: the command made it, and it would run outside the sandbox]`);
  }
  // A repository the command made is the work tree's, its config too: the next git there (the holder's own `git status`,
  // which goes into submodules) would run what it says, outside the sandbox (twenty-eighth MCP trial).
  const had = new Set(scan.gits);
  for (const made of scanTree(dir).gits.filter((g) => !had.has(g))) {
    rmSync(made, { recursive: true, force: true });
    run.output_tail = printable(
      `${run.output_tail}\n[workledger removed ${relative(dir, made)}: the command made a repository there, whose config would run in your next git command]`,
    );
  }
  const seen = opts.git(dir);
  // HEAD moved while it ran (a commit, a checkout: twenty-second MCP trial): what ran is not what HEAD names now, so the
  // pass counts as one on uncommitted changes, and says HEAD moved (twenty-fourth MCP trial: "uncommitted changes" misled); so do
  // changes git status does not show.
  const moved = before !== null && seen !== null && (before.head !== seen.head || before.branch !== seen.branch);
  const gitHere = seen && !seen.dirty && (moved || hiddenChanges(dir).length > 0) ? { ...seen, dirty: true } : seen;
  const changedByRun = before !== null && !dirtyBefore && gitHere !== null && gitHere.dirty && !moved;
  const { top, repo } = gitHere ? tree : {};
  const result = await ledger.recordVerification({
    ...who,
    passed: run.passed,
    exit_code: run.exit_code,
    duration_ms: run.duration_ms,
    output_tail: run.output_tail,
    command,
    dir,
    git: gitHere,
    ...(top !== undefined ? { top } : {}),
    ...(repo !== undefined ? { repo } : {}),
    sandbox,
    ...(changedByRun ? { changed_by_run: true as const } : {}),
    ...(moved ? { head_moved: true as const } : {}),
    ...(v.block_on_fail ? { block_on_fail: true } : {}),
    ...keyed,
  });
  return { ...result, timed_out: run.timed_out, author, env_removed: removed };
}

/** The path with its links resolved (as given when it cannot be). */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * A file of a home directory's (HOME_MARKERS) in `dir` or a folder above it,
 * short of the caller's own home: `dir` is in someone else's home (twenty-eighth
 * MCP trial: its `.ssh` was accepted, holding no marker itself).
 */
function homeAround(dir: string, home: string): string | undefined {
  for (let d = dir; d !== home; d = dirname(d)) {
    const found = HOME_MARKERS.find((f) => existsSync(join(d, f)));
    if (found !== undefined) return join(d, found);
    if (dirname(d) === d) return undefined;
  }
  return undefined;
}

/**
 * A server's directory (MCP) off the WO's branch, once the WO has work on its
 * branch, checks none of it: a failure there blocks done all the same
 * (twenty-seventh MCP trial: claimed again, the earlier lease's worktree no
 * longer this lease's, verify ran in the main checkout on main and failed).
 * Refused before anything runs, as checkpoint is.
 */
async function assertOnItsBranch(ledger: LedgerApi, who: Inputs["holding"] & { id: number }, dir: string, branch: string | null): Promise<void> {
  const held = await ledger.holding(who).catch(() => null); // not the holder: the ledger refuses the verification itself
  if (held === null || held.checkpoints.length === 0 || branch === held.branch) return;
  throw new LedgerError(
    "VALIDATION",
    `your worktree for ${label(who.id)} (lease ${held.lease.token}) does not exist, and this server's directory ${dir} is on ${branch ?? "a detached HEAD"}, not ${held.branch}, which holds the work: nothing was run`,
    {
      hint: "make your worktree for this lease ({{op:worktree}}: it starts from the branch), then {{op:verify}} again; or give the directory to run in ({{dir=PATH}})",
      details: { issues: [{ field: "dir", message: "not on the work order's branch" }], branch: held.branch },
    },
  );
}

/**
 * A worktree workledger made is its attempt's: a verification runs in the
 * caller's own, never in another WO's or an earlier lease's, where the
 * command would write into work another agent holds (sixteenth MCP trial).
 */
async function assertNotAnotherWorktree(ledger: LedgerApi, who: Inputs["holding"] & { id: number }, dir: string, given: boolean): Promise<void> {
  const tag = worktreeTag(dir);
  if (tag === null) return;
  const same = tag.project === who.project && tag.id === who.id;
  // Not holding the WO at all: the ledger refuses the verification itself (LEASE_LOST, NOT_HOLDER) before anything runs.
  const token = same
    ? await ledger.holding(who).then(
        (h) => h.lease.token,
        () => undefined,
      )
    : null;
  if (token === undefined || token === tag.token) return;
  const whose = same ? `an earlier lease's (${tag.token}) of ${label(who.id)}` : `${tag.project} ${label(tag.id)}'s (lease ${tag.token})`;
  throw new LedgerError("VALIDATION", `dir: ${dir} is ${whose} worktree, not yours for ${label(who.id)}: nothing was run`, {
    hint: given
      ? "a verification runs in the work it verifies: leave out {{dir}} to run it in your worktree for it ({{op:worktree}} makes one)"
      : "a verification runs in the work it verifies: run it in your worktree for it ({{op:worktree}} prints its path, or makes one)",
    details: { issues: [{ field: "dir", message: "another attempt's worktree" }], worktree: tag },
  });
}

/** A file's content; null when there is none; undefined when something else is there (left alone). */
function readPin(path: string): string | null | undefined {
  try {
    return lstatSync(path).isFile() ? readFileSync(path, "utf8") : undefined;
  } catch {
    return null;
  }
}

/** Puts the file back as it was (removed when there was none); whether it had changed. */
function restorePin(path: string, was: string | null | undefined): boolean {
  if (was === undefined || readPin(path) === was) return false;
  rmSync(path, { recursive: true, force: true });
  if (was !== null) writeFileSync(path, was);
  return true;
}

/**
 * A hooks directory git resolves inside the work tree (husky's `core.hooksPath`):
 * a hook written there ran at the holder's next commit (thirty-first trials).
 */
function hooksInTree(dir: string): string[] {
  const hooks = git(dir, ["rev-parse", "--path-format=absolute", "--git-path", "hooks"]);
  return hooks !== null && hooks.startsWith(dir + sep) && !hooks.startsWith(join(dir, ".git") + sep) ? [hooks] : [];
}

/** The local ledger's own files (database, journals, lease memory): a verification command never sees them. */
function ledgerFiles(ledger: LedgerApi): string[] {
  const db = ledger.info.kind === "sqlite" ? ledger.info.location : null;
  const state = process.env.WORKLEDGER_STATE_DIR;
  return [...(db ? [db, `${db}-wal`, `${db}-shm`, `${db}-journal`] : []), ...(state ? [state] : [])];
}
