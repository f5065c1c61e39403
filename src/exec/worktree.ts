/**
 * A git worktree per attempt (issue 26). The holder of WO 53's lease 2 works
 * in `<repo>.worktrees/<project>/wo-53-lease-2` beside the repository, on the
 * WO's branch, which holds every checkpoint so far: a takeover starts from
 * the last one. A worktree is never deleted or reset by a takeover; `prune`
 * removes only those whose WO is finished and that hold nothing uncommitted.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { LedgerApi } from "../core/api.js";
import { LedgerError } from "../core/errors.js";
import { isFinished } from "../core/rules.js";
import { agentName, inputs, projectName, type Inputs } from "../core/schemas.js";
import { label, type Checkpoint } from "../core/types.js";
import type { Held } from "../core/ledger.js";
import { noIdentity, parse, REQUIRED } from "../core/validate.js";
import { defaultBranch, ensureBranch } from "./branch.js";
import { unvouched } from "./commits.js";
import { dependencyWork, scopeWarnings } from "./scope.js";
import { asAgent, git, gitOrFail, hiddenChanges, mainWorkTree, redirectOf, relativeHooksPath, STATUS } from "./git.js";
import { branchOwner, madeBefore, workOrdersOfBranch } from "./ref-fence.js";
import { isAgentClientPath } from "../core/sandbox.js";

/** What a worktree made by workledger records about itself, in its own git directory (hooks read it). */
export interface WorktreeTag {
  project: string;
  id: number;
  token: number;
  agent: string;
  branch: string;
}
const TAG_FILE = "workledger.json";

export interface WorktreeResult {
  project: string;
  id: number;
  path: string;
  branch: string;
  token: number;
  /** false: it existed already (this attempt's, reused as it is). */
  created: boolean;
  /** The checkpoint it starts from (the WO's last), or null when there is none. */
  checkpoint: Checkpoint | null;
  warnings?: string[];
}

export interface PruneResult {
  removed: string[];
  kept: { path: string; reason: string }[];
}

/** Where workledger's worktrees of the repository whose main work tree is `top` live: beside it. */
const worktreesRoot = (top: string) => join(dirname(top), `${basename(top)}.worktrees`);

/** Where the worktree of an attempt (a held lease) on a WO lives. */
export const worktreePath = (top: string, held: { project: string; id: number; lease: { token: number } }) =>
  join(worktreesRoot(top), held.project, `wo-${held.id}-lease-${held.lease.token}`);

/** The tag of the worktree `dir` is in, or null when workledger did not make it. */
export function worktreeTag(dir: string): WorktreeTag | null {
  const gitDir = git(dir, ["rev-parse", "--absolute-git-dir"]);
  if (gitDir === null || !existsSync(join(gitDir, TAG_FILE))) return null;
  try {
    const t = JSON.parse(readFileSync(join(gitDir, TAG_FILE), "utf8")) as WorktreeTag;
    return typeof t.project === "string" && Number.isInteger(t.id) && Number.isInteger(t.token) ? t : null;
  } catch {
    return null;
  }
}

/** The paths of the repository's linked worktrees (git's list; the main work tree excluded). */
function linkedWorktrees(top: string): string[] {
  const out = gitOrFail(top, ["worktree", "list", "--porcelain"], "list worktrees");
  return out
    .split("\n")
    .filter((l) => l.startsWith("worktree "))
    .map((l) => l.slice("worktree ".length))
    .filter((p) => resolve(p) !== resolve(top));
}

export async function openWorktree(ledger: LedgerApi, who: Inputs["holding"], dir: string): Promise<WorktreeResult> {
  // The lease first: a lapsed holder gets no new worktree and touches nothing.
  const held = await ledger.holding(who);
  const top = mainWorkTree(dir);
  const checkpoint = held.checkpoints.at(-1) ?? null;
  // Before anything else about the branch: another project's WO made first owns the name, and its work is not this one's to
  // delete (twenty-seventh MCP trial: the older-branch hint said to delete a done WO's unmerged work).
  await refuseSharedBranch(ledger, held, held.branch);
  const restored = unredirect(top, held, checkpoint);
  const { branch, created } = ensureBranch(top, held.branch, held.lease.agent);
  const path = worktreePath(top, held);
  if (!created && checkpoint === null) refuseOlderBranch(top, branch, held);
  const base = { project: held.project, id: held.id, path, branch, token: held.lease.token, checkpoint };
  if (linkedWorktrees(top).includes(path)) {
    // Its path is known ahead (the next lease's token): one someone else made there is theirs, not this attempt's (twenty-fourth
    // MCP trial: a non-holder's worktree, with files planted in it, was handed over and checkpointed).
    const tag = worktreeTag(path);
    if (tag === null || tag.project !== held.project || tag.id !== held.id || tag.token !== held.lease.token || tag.agent !== held.lease.agent)
      throw new LedgerError("VALIDATION", `${path} is a worktree workledger did not make for your lease ${held.lease.token} on WO-${held.id}; nothing was changed`, {
        hint: `read what is in it; then remove it (git worktree remove --force ${path}) and run this again, which makes yours there`,
        details: { path, tag },
      });
    return { ...base, created: false, ...(restored ? { warnings: [restored] } : {}) };
  }
  if (existsSync(path))
    throw new LedgerError("VALIDATION", `${path} exists and is not a worktree of ${top}; nothing was changed`, {
      hint: "move it away (workledger never deletes a directory it did not make), then run it again",
      details: { path },
    });
  const detached = detachEarlier(top, branch, held);
  // --force: the branch may still be checked out elsewhere (the main work tree, a worktree workledger did not make).
  gitOrFail(top, ["worktree", "add", "--force", "--quiet", path, branch], `add a worktree for ${branch}`);
  writeTag(path, { project: held.project, id: held.id, token: held.lease.token, agent: held.lease.agent, branch });
  const missing = checkpoint !== null && git(path, ["merge-base", "--is-ancestor", checkpoint.commit, "HEAD"]) === null;
  const warnings = missing
    ? [
        git(path, ["cat-file", "-e", `${checkpoint.commit}^{commit}`]) === null
          ? `the last checkpoint (${checkpoint.commit.slice(0, 12)} by ${checkpoint.agent}) is not in this repository: fetch ${branch} from where it was made`
          : // Here, but not on the branch: the branch was moved off it (twenty-first trials: "fetch it" after a local reset).
            `the last checkpoint (${checkpoint.commit.slice(0, 12)} by ${checkpoint.agent}) is in this repository but not on ${branch}: the branch was reset or rewritten since; git log ${checkpoint.commit.slice(0, 12)} shows that work, git reset --hard ${checkpoint.commit.slice(0, 12)} here carries on from exactly it (git merge would keep what the branch holds now too)`,
      ]
    : await refusedSince(ledger, path, checkpoint?.commit ?? defaultBranch(top), branch, held.checkpoints);
  if (restored) warnings.unshift(restored);
  // Done dependencies' work this branch lacks (a WO's branch starts from the default branch; theirs stays on their own
  // until merged: thirty-first MCP trial), and, taking over another's work, what it changed beyond the WO's scope.
  const deps = await dependencyWork(ledger, held);
  for (const d of deps.filter((d) => git(path, ["merge-base", "--is-ancestor", d.commit, "HEAD"]) === null))
    warnings.push(`${label(d.id)} is done, but its work (${d.branch} at ${d.commit.slice(0, 12)}) is not in this worktree: git merge ${d.branch} here to build on it`);
  if (checkpoint !== null && checkpoint.agent !== held.lease.agent) warnings.push(...scopeWarnings(path, defaultBranch(top), "HEAD", held, deps));
  const hooksPath = relativeHooksPath(path);
  if (hooksPath !== null)
    warnings.push(
      `core.hooksPath is relative (${hooksPath}): git looks for hooks in this worktree's own copy, so workledger's lease hooks do not run here; make it absolute and run git-hooks install`,
    );
  warnings.push(
    ...detached.map((p) => {
      // Work left there is named: the next holder may want to rescue it (thirty-fifth MCP trial: nothing said it was there).
      const left = (git(p, ["status", "--porcelain"]) ?? "").split("\n").filter(Boolean).length;
      return `${p} (${worktreeTag(p)?.agent === held.lease.agent ? "your earlier lease's" : "an earlier holder's"} worktree) had ${branch} checked out: it is detached now, its files untouched${left ? ` (${left} uncommitted change(s): git -C ${p} status)` : ""}, so a commit there cannot land on the branch`;
    }),
  );
  const clients = clientFilesIn(path);
  if (clients.length > 0)
    warnings.push(
      `this worktree holds files an agent's client runs as you when you start it here (${clients.slice(0, 5).join(", ")}${clients.length > 5 ? ", …" : ""}): they came with ${branch} (git log -- PATH names who committed them); read them before you start a client in it`,
    );
  return { ...base, created: true, ...(warnings.length ? { warnings } : {}) };
}

/**
 * The WO's branch made a symbolic ref to another branch (git runs no hook for
 * that, so anyone could): its holder's `worktree` makes it a branch again, at
 * its last checkpoint or else the default branch's tip, as the holder (the
 * fence lets it), and says so. A holder in a plain shell could not (the
 * fence knew no name there: twenty-third MCP trial).
 */
function unredirect(top: string, held: Held, checkpoint: Checkpoint | null): string | null {
  const target = redirectOf(top, held.branch);
  if (target === null) return null;
  const at = checkpoint?.commit ?? gitOrFail(top, ["rev-parse", "--verify", `${defaultBranch(top)}^{commit}`], "read the default branch");
  gitOrFail(
    top,
    ["update-ref", "--no-deref", "-m", "workledger: a branch again", `refs/heads/${held.branch}`, at],
    `make ${held.branch} a branch again`,
    asAgent(held.lease.agent),
  );
  return `${held.branch} was a symbolic ref to ${target} (made with git symbolic-ref, which no git hook sees): it is a branch again, at ${checkpoint ? "its last checkpoint" : "the default branch's tip"} ${at.slice(0, 12)}; ${target}'s commits are not on it${checkpoint ? "" : " (if work of yours was on it, git reflog shows where it was)"}`;
}

/** What separates two projects' WOs that have one branch name. */
const SHARED_BRANCH = "a person (an admin) gives one of the projects its own branch prefix ({{op:setPolicy}} {{branch_prefix}}), so their work orders' branches differ";

/**
 * Another project's WO with the same branch name (same prefix, id and title)
 * would have two projects' work on one branch (twentieth MCP trial: once the
 * other's worktree was removed, a WO was finished on the other project's
 * work): the name is the WO's made first, and the later one is refused its
 * worktree and checkpoints, whether or not a worktree of the other exists.
 * A later one never blocks the first (twenty-seventh MCP trial: a new project
 * with a WO of the same id and title blocked a held WO's worktree).
 */
export async function refuseSharedBranch(ledger: LedgerApi, held: { project: string; id: number; created_at: string }, branch: string): Promise<void> {
  const owner = branchOwner((await workOrdersOfBranch(ledger, branch)).filter((w) => w.project !== held.project));
  const other = owner !== undefined && madeBefore(owner, held) ? owner : undefined;
  if (other)
    throw new LedgerError("VALIDATION", `${branch} is also the branch of ${other.project}#${other.id}; nothing was changed`, {
      hint: SHARED_BRANCH,
      details: { branch, project: other.project, id: other.id },
    });
}

/**
 * A branch with the WO's name that existed before the WO did, holding
 * commits the default branch does not have, is someone's work under a name
 * that happened to be free, not this WO's (twenty-second MCP trial: a branch
 * made ahead for a WO's id and title was the first holder's start, and its
 * code passed as the work). Known by its reflog's first entry; refused
 * until it is deleted or an admin moves it.
 */
function refuseOlderBranch(top: string, branch: string, held: { id: number; created_at: string; lease: { agent: string } }): void {
  // When the branch was made (its reflog's first entry), not its commit's date (twenty-third trials: main's first commit's).
  const made = /@\{(\d+)\}$/.exec(
    git(top, ["log", "-g", "--date=unix", "--format=%gd", `refs/heads/${branch}`])
      ?.split("\n")
      .at(-1) ?? "",
  )?.[1];
  if (!made || Number(made) * 1000 >= Math.floor(Date.parse(held.created_at) / 1000) * 1000) return;
  const ahead = Number(git(top, ["rev-list", "--count", `${defaultBranch(top)}..refs/heads/${branch}`]) ?? "0");
  if (ahead === 0) return;
  throw new LedgerError(
    "VALIDATION",
    `${branch} was made before WO-${held.id} was (${new Date(Number(made) * 1000).toISOString()}), and holds ${ahead} commit(s) the default branch does not: it is not this work order's work; nothing was changed`,
    {
      hint: `read it (git log ${defaultBranch(top)}..${branch}); then delete it (WORKLEDGER_AGENT=${held.lease.agent} git branch -D ${branch}: you hold the work order) and run this again, which starts the branch from the default branch`,
      details: { branch, commits: ahead },
    },
  );
}

/**
 * Earlier holders' worktrees for this WO that have its branch checked out:
 * their HEAD is detached where it stands (files and index untouched), so a
 * lapsed holder's plain commit there, made after the branch moved under it,
 * cannot land on the branch and silently revert the next holder's work
 * (issue 23, thirteenth trials). Returns their paths.
 */
function detachEarlier(top: string, branch: string, held: { project: string; id: number }): string[] {
  const records = gitOrFail(top, ["worktree", "list", "--porcelain"], "list worktrees").split("\n\n");
  const onBranch = records.flatMap((r) => {
    const path = /^worktree (.+)$/m.exec(r)?.[1];
    return path !== undefined && /^branch refs\/heads\/(.+)$/m.exec(r)?.[1] === branch ? [path] : [];
  });
  // Another project's WO with the same branch name (same id and title): two holders would overwrite each other (fifteenth trials).
  const other = onBranch.map((p) => [p, worktreeTag(p)] as const).find(([, t]) => t !== null && (t.project !== held.project || t.id !== held.id));
  if (other)
    throw new LedgerError("VALIDATION", `${branch} is also the branch of ${other[1]!.project}#${other[1]!.id} (its worktree ${other[0]}); nothing was changed`, {
      hint: SHARED_BRANCH,
      details: { branch, worktree: other[0], project: other[1]!.project, id: other[1]!.id },
    });
  return onBranch.filter((p) => {
    const tag = worktreeTag(p);
    if (tag === null || tag.project !== held.project || tag.id !== held.id) return false;
    const head = git(p, ["rev-parse", "HEAD"]);
    return head !== null && git(p, ["update-ref", "--no-deref", "-m", "workledger: detached for the next holder", "HEAD", head]) !== null;
  });
}

/**
 * Commits on the branch after `since` (the last checkpoint, or the default
 * branch) that were made outside the lease they name: a lapsed holder's
 * `--no-verify` commits. The new holder is told before building on them
 * (ninth trials); they stay, for check-commits to flag. And a tip the ledger
 * never recorded, whatever its commits' trailers say (unrecordedTip).
 */
async function refusedSince(ledger: LedgerApi, path: string, since: string, branch: string, recorded: readonly { commit: string }[]): Promise<string[]> {
  try {
    // Commits naming no lease (hooks not installed, or skipped) too: nobody vouched for them under a lease (twelfth trials).
    const { refused, unmarked } = await unvouched(ledger, path, `${since}..HEAD`);
    const out: string[] = [];
    const first = refused[0];
    if (first)
      out.push(
        `${branch} holds ${refused.length} commit(s) made outside the lease they name (${first.commit.slice(0, 12)} "${first.subject}": ${first.verdict?.message ?? "its trailers cannot be read"}); check-commits flags them: revert them, or reset to ${since.slice(0, 12)}, before building on them`,
      );
    const loose = unmarked[0];
    if (loose)
      out.push(
        `${branch} holds ${unmarked.length} commit(s) after ${since.slice(0, 12)} that name no lease (${loose.commit.slice(0, 12)} "${loose.subject}", made without workledger's git hooks: not installed, skipped, or outside its worktrees): read them before building on them, or reset to ${since.slice(0, 12)}`,
      );
    const unrecorded = out.length === 0 ? unrecordedTip(path, since, branch, recorded) : null;
    if (unrecorded) out.push(unrecorded);
    return out;
  } catch {
    return []; // a warning, never in the way of the worktree
  }
}

/**
 * The branch's tip when no holder's move put it there: workledger's git hooks
 * record every move a holder makes as a checkpoint, so a tip past `since`
 * that no checkpoint names was moved with them skipped, and its commits'
 * trailers vouch for nothing (thirty-fourth trials: a lapsed holder copied
 * its old lease's trailers and date onto a commit gutting the test, moved the
 * branch with core.hooksPath=/dev/null, and the next holder's worktree said
 * nothing). null when the tip is recorded, or is `since` itself.
 */
export function unrecordedTip(path: string, since: string, branch: string, recorded: readonly { commit: string }[]): string | null {
  const head = git(path, ["rev-parse", "HEAD"]);
  if (head === null || recorded.some((c) => c.commit === head) || git(path, ["rev-parse", `${since}^{commit}`]) === head) return null;
  const count = git(path, ["rev-list", "--count", `${since}..${head}`]) ?? "?";
  if (count === "0") return null; // behind it (a branch made before the default branch moved on): nothing new
  return `${branch} was moved past ${since.slice(0, 12)} to ${head.slice(0, 12)} (${count} commit(s)) with workledger's git hooks skipped (or by an admin): no holder's move recorded it, so the lease its commits name vouches for none of them; read them (git log ${since.slice(0, 12)}..${head.slice(0, 12)}) before building on them, or reset to ${since.slice(0, 12)}`;
}

/**
 * The tracked files of a worktree that agents' clients run (isAgentClientPath; installed packages aside, which some
 * projects vendor): the branch brings them from wherever it started, the default branch too, which any agent may move
 * (thirty-fifth trials: a `.mcp.json` and a SessionStart hook committed to main reached the next holder unsaid).
 */
function clientFilesIn(path: string): string[] {
  const files = (git(path, ["ls-files", "-z"]) ?? "").split("\0");
  return files.filter((f) => f !== "" && isAgentClientPath(f) && !f.split("/").includes("node_modules"));
}

function writeTag(path: string, tag: WorktreeTag): void {
  const gitDir = gitOrFail(path, ["rev-parse", "--absolute-git-dir"], "find the worktree's git directory");
  writeFileSync(join(gitDir, TAG_FILE), JSON.stringify(tag) + "\n");
}

/**
 * Removes the worktrees workledger made whose WO is done or cancelled and that
 * hold no uncommitted change; says why it kept the others. Only the caller's
 * own (made for its leases), or any for an admin: what git ignores there
 * (build output, a local `.env`) is the agent's, and went with another
 * agent's prune (twenty-seventh trials).
 */
export async function pruneWorktrees(
  ledger: LedgerApi,
  dir: string,
  caller: { agent: string | undefined; admin: boolean },
  only?: { id: number; project: string | undefined },
): Promise<PruneResult> {
  const top = mainWorkTree(dir);
  const mine = resolve(worktreesRoot(top));
  const out: PruneResult = { removed: [], kept: [] };
  for (const path of linkedWorktrees(top).filter((p) => p.startsWith(mine + "/"))) {
    const keep = (reason: string) => out.kept.push({ path, reason });
    // With an id, that WO's worktrees only (thirty-fourth trials: --id was ignored, and every worktree reported on).
    const tagged = only === undefined || !existsSync(path) ? null : worktreeTag(path);
    if (only !== undefined && (tagged === null || tagged.id !== only.id || (only.project !== undefined && tagged.project !== only.project))) continue;
    if (!existsSync(path)) {
      keep("its directory is gone (git worktree prune forgets it)");
      continue;
    }
    const tag = worktreeTag(path);
    if (tag === null) {
      keep("workledger did not make it");
      continue;
    }
    if (!caller.admin && tag.agent !== caller.agent) {
      keep(`it was made for ${tag.agent}'s lease: only ${tag.agent} (or an admin) prunes it`);
      continue;
    }
    const wo = await ledger.get({ project: tag.project, id: tag.id });
    if (!isFinished(wo.status)) {
      keep(`WO-${wo.id} is ${wo.status}`);
      continue;
    }
    const changes = git(path, [...STATUS, "--porcelain", "--untracked-files=all"]);
    if (changes === null || changes !== "") {
      keep(changes === null ? "git could not say whether it holds uncommitted changes" : `it holds ${changes.split("\n").length} uncommitted change(s)`);
      continue;
    }
    const hidden = hiddenChanges(path);
    if (hidden.length) {
      keep(`it holds ${hidden.length} change(s) hidden from git status (skip-worktree or assume-unchanged)`);
      continue;
    }
    gitOrFail(top, ["worktree", "remove", path], `remove the worktree ${path}`);
    out.removed.push(path);
  }
  return out;
}

/** `workledger worktree`: the caller's worktree on a WO, or with prune the removal of finished ones. */
export async function worktree(ledger: LedgerApi, input: Inputs["worktree"]): Promise<WorktreeResult | PruneResult> {
  // Pruning needs no project: each worktree's tag names its WO (and the agent it was made for).
  const w = parse(inputs.worktree.extend({ agent: agentName.optional(), project: projectName.optional() }), input);
  const dir = resolve(w.dir ?? process.cwd());
  if (w.prune) {
    const me = ledger.knowsCaller ? await ledger.whoami() : null;
    const only = w.id === undefined ? undefined : { id: w.id, project: w.project };
    // A WO that does not exist is said so (thirty-sixth trials: --id 999 answered an empty prune).
    if (only !== undefined && w.project !== undefined) await ledger.get({ project: w.project, id: only.id });
    return pruneWorktrees(ledger, dir, { agent: me?.agent ?? w.agent, admin: (me?.role ?? w.role) === "admin" }, only);
  }
  for (const field of ["project", "id"] as const)
    if (w[field] === undefined) throw new LedgerError("VALIDATION", `${field}: ${REQUIRED}`, { details: { issues: [{ field, message: REQUIRED }] } });
  if (!ledger.knowsCaller && w.agent === undefined) throw noIdentity();
  const { project, agent, role, id, lease_token } = w as typeof w & { project: string; id: number };
  return openWorktree(ledger, { project, agent: agent!, role, id, ...(lease_token !== undefined ? { lease_token } : {}) }, dir);
}

/** The caller's worktree for the WO (exec/worktree.ts) when it exists and the caller is not in it already; else undefined. */
export async function ownWorktree(ledger: LedgerApi, who: Inputs["holding"]): Promise<string | undefined> {
  const here = process.cwd();
  if (worktreeTag(here) !== null) return undefined; // in a worktree workledger made: here is meant
  try {
    const held = await ledger.holding(who);
    const path = worktreePath(mainWorkTree(here), held);
    return isDirectory(path) ? path : undefined;
  } catch {
    return undefined; // not the holder, or not in a repository: verify says so itself, or runs here
  }
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The caller's worktree for the WO a call's input names (project, agent, id), when it holds the WO, the worktree exists and it stands elsewhere. */
export async function worktreeOf(ledger: LedgerApi, input: Record<string, unknown>): Promise<string | undefined> {
  const { project, agent, id } = input;
  if (typeof project !== "string" || typeof id !== "number") return undefined;
  return ownWorktree(ledger, { project, id, ...(typeof agent === "string" ? { agent } : {}) } as Inputs["holding"]);
}
