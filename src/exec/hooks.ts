/**
 * Git hooks that carry the lease to the commit (issue 26). `prepare-commit-msg`
 * adds the Work-Order and Lease-Token trailers of the WO a worktree was made
 * for; `commit-msg` refuses the commit when that lease is no longer live,
 * naming who holds the WO now (`--no-verify` skips it: check-commits flags
 * such a commit). A cherry-pick or revert runs only `prepare-commit-msg`,
 * which then refuses it the same way. `reference-transaction` lets a WO's
 * branch move only for its holder and records each move it made as a
 * checkpoint (ref-fence.ts). Installed in the
 * repository's hooks directory (core.hooksPath honoured), which its
 * worktrees share.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LedgerApi } from "../core/api.js";
import { byItsHolder, unreadable, type CommitVerdict } from "../core/commits.js";
import { LedgerError } from "../core/errors.js";
import { commitLease, trailerLines } from "../core/trailers.js";
import { label, type WorkOrder } from "../core/types.js";
import type { CheckpointResult } from "../core/service/results.js";
import { git, gitOrFail, headNames, LEDGER_PIN, redirected, redirectOf, relativeHooksPath } from "./git.js";
import { workOrderOfBranch } from "./ref-fence.js";
import { worktreeTag } from "./worktree.js";

export const HOOKS = ["prepare-commit-msg", "commit-msg", "reference-transaction"] as const;
/** Hooks earlier versions installed: still run when there, removed by the next install (reference-transaction records commits now). */
export const RETIRED_HOOKS = ["post-commit"] as const;
/** The hooks that see a commit's message. */
export type CommitHook = "prepare-commit-msg" | "commit-msg";
const MARK = "# installed by workledger git-hooks install";

export interface HooksInstalled {
  dir: string;
  installed: string[];
  /** Hooks that were there already and are someone else's: left as they are. */
  kept: { hook: string; reason: string }[];
}

const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Installs both hooks, running this workledger (`node` and its `script`) by absolute path: an agent's PATH need not have it. */
export function installHooks(dir: string, node: string, script: string): HooksInstalled {
  const hooks = gitOrFail(dir, ["rev-parse", "--path-format=absolute", "--git-path", "hooks"], "find the hooks directory");
  // git finds a relative core.hooksPath (husky's `.husky`) in each worktree's own files, where these hooks are not: in the
  // worktrees agents work in, no lease hook would run and a lapsed holder's commits would land (thirty-first trials).
  const configured = relativeHooksPath(dir);
  if (configured !== null)
    throw new LedgerError(
      "VALIDATION",
      `core.hooksPath is relative (${configured}): git looks for hooks in each worktree's own ${configured}, where workledger's are not, so they would not run in agents' worktrees; nothing was installed`,
      {
        hint: `make it absolute (git config core.hooksPath '${hooks}'), then run git-hooks install again`,
        details: { issues: [{ field: "core.hooksPath", message: "relative" }], hooks_path: configured, absolute: hooks },
      },
    );
  mkdirSync(hooks, { recursive: true });
  const out: HooksInstalled = { dir: hooks, installed: [], kept: [] };
  for (const name of RETIRED_HOOKS) {
    const path = join(hooks, name);
    if (existsSync(path) && readFileSync(path, "utf8").includes(MARK)) rmSync(path);
  }
  for (const name of HOOKS) {
    const path = join(hooks, name);
    if (existsSync(path) && !readFileSync(path, "utf8").includes(MARK)) {
      out.kept.push({ hook: path, reason: `a ${name} hook is there already; add this line to it: ${quoted(node)} ${quoted(script)} git-hook ${name} "$@" || exit 1` });
      continue;
    }
    const run = `${quoted(node)} ${quoted(script)} git-hook ${name}`;
    writeFileSync(path, `#!/bin/sh\n${MARK}\n${name === "reference-transaction" ? refFilter(run) : `exec ${run} "$@"`}\n`);
    chmodSync(path, 0o755);
    out.installed.push(path);
  }
  return out;
}

/**
 * The reference-transaction script: workledger starts only for a prepared
 * update of a branch with a number in its name (a WO's is <prefix><id>-<title>,
 * whatever the project's prefix), of a replace ref, of a ref outside
 * refs/heads and refs/remotes (a tag, `refs/wo/…`: one named like a branch
 * shadows it), of a branch's deletion (a rename's only trace), or of any
 * branch to a commit holding `.workledger` (checked out, it turns every
 * agent's ledger elsewhere: thirtieth trials, pulled into main), to fence it;
 * and for a committed move of such a branch (or a deletion: a rename onto
 * one), to record it as a checkpoint; so fetches and other branches cost a
 * shell, an awk and a `git cat-file` per branch. The updates go in as a
 * here-document, so workledger's parent is git itself (it tells git's own ref
 * packing apart by that).
 */
const refFilter = (run: string) =>
  [
    `all=$(cat)`,
    `case "$1" in`,
    `prepared) updates=$(printf '%s\\n' "$all" | awk '$3 ~ /^refs\\/heads\\/.*[0-9]/ || $3 ~ /^refs\\/replace\\// || ($2 ~ /^0+$/ && $3 ~ /^refs\\/heads\\//) || ($2 !~ /^0+$/ && $3 ~ /^refs\\// && $3 !~ /^refs\\/(heads|remotes)\\//)')`,
    `  pins=$(printf '%s\\n' "$all" | while read -r old new ref; do case "$ref" in refs/heads/*) git cat-file -e "$new:${LEDGER_PIN}" 2>/dev/null && echo "$old $new $ref" ;; esac; done)`,
    `  updates=$(printf '%s\\n%s\\n' "$updates" "$pins" | awk 'NF && !seen[$0]++') ;;`,
    `committed) updates=$(printf '%s\\n' "$all" | awk '$1 != $2 && (($2 !~ /^0+$/ && $3 ~ /^refs\\/heads\\/.*[0-9]/) || ($2 ~ /^0+$/ && $3 ~ /^refs\\/heads\\//))') ;;`,
    `*) exit 0 ;;`,
    `esac`,
    `[ -n "$updates" ] || exit 0`,
    `exec ${run} "$1" <<EOF`,
    `$updates`,
    `EOF`,
  ].join("\n");

export interface HookOutcome {
  /** null: the commit is not a WO's (no trailers, not in a worktree workledger made). */
  verdict: CommitVerdict | null;
  added_trailers: boolean;
}

/** Adds the worktree's lease (or `lease`) as trailers to the message in `file` (replacing any it had); false outside a worktree workledger made. */
function addTrailers(cwd: string, file: string, lease: { project: string; id: number; token: number } | null = worktreeTag(cwd)): boolean {
  if (lease === null) return false;
  // git merge writes its message without a final newline, and interpret-trailers then joins the trailers to the subject,
  // where no one reads them (twenty-third trials: a merge's trailers went in twice).
  if (!readFileSync(file, "utf8").endsWith("\n")) appendFileSync(file, "\n");
  const args = trailerLines(lease).flatMap((t) => ["--trailer", t]);
  gitOrFail(cwd, ["interpret-trailers", "--in-place", "--if-exists", "replace", ...args, file], "add the work order's trailers");
  return true;
}

/**
 * Runs a hook for the commit whose message is in `file`, in the work tree
 * `cwd`; `project` is the caller's (its WO branches are fenced too when
 * checked out outside a worktree workledger made).
 */
export async function runHook(ledger: LedgerApi, name: CommitHook, cwd: string, file: string, project?: string): Promise<HookOutcome> {
  // A WO's branch someone made a symbolic ref to another (no hook sees that): the commit would land there, on main
  // (thirty-fifth trials: the holder's plain commit moved the default branch).
  const named = name === "commit-msg" ? headNames(cwd) : null;
  const target = named === null || worktreeTag(cwd)?.branch !== named ? null : redirectOf(cwd, named);
  if (named !== null && target !== null) throw redirected(named, target, "the commit was not made");
  // The worktree's lease replaces whatever lease the message named (an amended or a picked commit's).
  let added = name === "prepare-commit-msg" && addTrailers(cwd, file);
  // A cherry-pick or revert runs no commit-msg hook: this is its only check (fifteenth trials: a non-holder's pick landed).
  if (name === "prepare-commit-msg" && !picking(cwd)) return { verdict: null, added_trailers: added };
  const read = () => commitLease(gitOrFail(cwd, ["interpret-trailers", "--parse", file], "read the commit message's trailers"));
  let lease = read();
  if (lease === null && addTrailers(cwd, file)) {
    added = true; // committed without prepare-commit-msg (a message given with -F, or the hook missing)
    lease = read();
  }
  if (lease === null && project !== undefined) {
    // A WO's branch checked out elsewhere (the main checkout, a clone): the commit is its live holder's, or refused
    // (fourteenth trials: a lapsed holder committed on the branch from the main checkout while another held it).
    const wo = await workOrderCheckedOut(ledger, project, cwd);
    if (wo !== null) {
      const live = wo.lease !== null && Date.parse(wo.lease.expires_at) > Date.now() ? wo.lease : null;
      if (live === null) return { added_trailers: added, verdict: refusedOnBranch(wo, "nobody holds it") };
      // Whose commit it is must be known before the holder's lease is written into it (fifteenth trials: an anonymous commit got it).
      if (!ledger.knowsCaller && !process.env.WORKLEDGER_AGENT) return { added_trailers: added, verdict: refusedOnBranch(wo, "anonymous") };
      added = addTrailers(cwd, file, { project, id: wo.id, token: live.token });
      lease = read();
    }
  }
  if (lease === null) return { verdict: null, added_trailers: added };
  if (lease === "malformed") {
    const said = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => /^(work-order|lease-token):/i.test(l));
    return { added_trailers: added, verdict: unreadable(said, new Date().toISOString()) };
  }
  const [verdict] = await ledger.checkCommits({ project: lease.project, commits: [{ id: lease.id, token: lease.token }] });
  return { verdict: byItsHolder(verdict!, process.env.WORKLEDGER_AGENT || undefined), added_trailers: added };
}

/** A cherry-pick or revert is making this commit (git leaves CHERRY_PICK_HEAD or REVERT_HEAD while it does). */
function picking(cwd: string): boolean {
  const paths = git(cwd, ["rev-parse", "--path-format=absolute", "--git-path", "CHERRY_PICK_HEAD", "--git-path", "REVERT_HEAD"]);
  return paths !== null && paths.split("\n").some((p) => existsSync(p));
}

/**
 * After a commit on its WO's branch in a worktree workledger made, under the
 * lease its trailers name: the ledger records it as a checkpoint, so a pass
 * from before it no longer passes for the work, and a handover from before it
 * reads stale (sixteenth trials: verify, `git rm` and commit, done). The
 * commit stands whatever happens here (post-commit cannot refuse it); null
 * when it is not such a commit.
 */
export async function recordCommit(ledger: LedgerApi, cwd: string, agent: string | undefined): Promise<CheckpointResult | null> {
  const tag = worktreeTag(cwd);
  if (tag === null) return null;
  const [commit, branch, subject, ...trailers] = (git(cwd, ["log", "-1", "--format=%H%n%D%n%s%n%(trailers:only,unfold)"]) ?? "").split("\n");
  const lease = commitLease(trailers.join("\n"));
  if (lease === null || lease === "malformed" || lease.project !== tag.project || lease.id !== tag.id || !branch?.split(", ").includes(`HEAD -> ${tag.branch}`)) return null;
  return ledger.recordCheckpoint({
    project: lease.project,
    id: lease.id,
    agent: (agent ?? tag.agent) as string,
    lease_token: lease.token,
    commit: commit!,
    message: subject || "(no message)",
  });
}

/** The WO whose branch `cwd` has checked out; null when it is no WO's. */
async function workOrderCheckedOut(ledger: LedgerApi, project: string, cwd: string): Promise<WorkOrder | null> {
  const branch = git(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return branch === null ? null : workOrderOfBranch(ledger, project, branch);
}

/**
 * A commit on a WO's branch outside its worktrees, refused: nobody holds the
 * WO, or the commit names no agent (never stamped with the holder's lease).
 */
function refusedOnBranch(wo: WorkOrder, why: "nobody holds it" | "anonymous"): CommitVerdict {
  const because = why === "anonymous" ? "this commit names no agent (WORKLEDGER_AGENT is not set)" : `nobody holds ${label(wo.id)} (${wo.status})`;
  const message = `${wo.branch} is ${label(wo.id)}'s branch and ${because}: only its holder commits to it`;
  return {
    commit: null,
    project: wo.project,
    id: wo.id,
    token: 0,
    at: new Date().toISOString(),
    ok: false,
    problem: "not_the_holder",
    message,
    attempt: null,
    status: wo.status,
    holder: null,
  };
}
