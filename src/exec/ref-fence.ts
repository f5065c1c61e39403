/**
 * The reference-transaction hook's fence (issue 23, seventeenth round): a WO's
 * branch moves only for its live holder, whatever git command moves it. The
 * commit hooks see commits; `merge --ff-only`, `reset`, `update-ref`,
 * `branch -f` and `fetch` into a local branch move the branch without one.
 * git hands the hook each update as `<old> <new> <ref>` before it is made;
 * `<old>` is what the command expected, so the ref's value is read instead;
 * the installed script passes on only those to branches with a number in
 * their name (and replace refs), so fetches and most commits elsewhere never
 * start workledger.
 */
import { readFileSync } from "node:fs";
import type { LedgerApi } from "../core/api.js";
import { judgeBranchMove, type BranchMove } from "../core/commits.js";
import type { CheckpointResult, WorkOrderWithNotes } from "../core/service/results.js";
import { label, type WorkOrder } from "../core/types.js";
import { once } from "../core/lazy.js";
import { isAgentClientPath } from "../core/sandbox.js";
import { isCredentialPath } from "../core/credentials.js";
import { defaultBranch } from "./branch.js";
import { credentialsAdded, git, LEDGER_PIN } from "./git.js";
import { madeOutsideTheirLease } from "./commits.js";
import { worktreeTag } from "./worktree.js";

export interface RefUpdate {
  old: string;
  new: string;
  ref: string;
}

/** The caller as the door knows it (WORKLEDGER_AGENT, WORKLEDGER_ROLE). */
export interface Caller {
  agent: string | undefined;
  admin: boolean;
}

export interface RefusedMove {
  ref: string;
  message: string;
  /** The WO whose branch it is (absent: a replace ref). */
  wo?: { project: string; id: number; status: WorkOrder["status"]; holder: string | null };
}

const NONE = /^0+$/;
const ZERO = "0".repeat(40);

/** git's `<old> <new> <ref>` lines. */
export function parseRefUpdates(text: string): RefUpdate[] {
  return text.split("\n").flatMap((line) => {
    const [old, now, ref] = line.trim().split(" ");
    return old && now && ref ? [{ old, new: now, ref }] : [];
  });
}

/**
 * The ids a branch named like a WO's (`<prefix><id>-<title>`, core/branch.ts)
 * may carry: each run of digits in it, since a project's prefix is its own
 * (`team/wo-`, `wo-`: twenty-first trials, a prefix not ending in `/` was
 * never fenced) and may have changed since the WO was named.
 */
export function idsOfBranch(branch: string): number[] {
  const runs = branch.match(/\d{1,9}/g) ?? [];
  return [...new Set(runs.map(Number))].filter((n) => n > 0).slice(0, 8);
}

/** The WO whose branch `branch` is in `project`; null when it is no WO's. */
export async function workOrderOfBranch(ledger: LedgerApi, project: string, branch: string): Promise<WorkOrderWithNotes | null> {
  for (const id of idsOfBranch(branch)) {
    const wo = await ledger.get({ project, id }).catch(() => null); // no such WO here: not a WO's branch
    if (wo?.branch === branch) return wo;
  }
  return null;
}

/** Each project's WO whose branch is `branch` (one name is several projects' when their prefixes, ids and titles agree). */
export async function workOrdersOfBranch(ledger: LedgerApi, branch: string): Promise<WorkOrderWithNotes[]> {
  if (idsOfBranch(branch).length === 0) return [];
  const found = await Promise.all((await ledger.projects({})).map((p) => workOrderOfBranch(ledger, p.name, branch)));
  return found.filter((w): w is WorkOrderWithNotes => w !== null);
}

/**
 * The updates among `updates` (made in the work tree `cwd`) that move a WO's
 * branch for someone who may not: each refused with why. The caller is
 * `agent` (a remote ledger knows it by the token; inside a worktree workledger
 * made, its tag names the agent it was made for).
 */
export async function fenceRefUpdates(ledger: LedgerApi, cwd: string, updates: RefUpdate[], caller: Caller, run = hookRun(ledger, cwd, caller)): Promise<RefusedMove[]> {
  const parent = parentArgs();
  if (gitSubcommand(parent) === "pack-refs") return [];
  const heads = withRenameTarget(
    updates.filter((u) => u.ref.startsWith("refs/heads/")),
    parent,
  );
  const moves = heads.filter((u) => idsOfBranch(u.ref.slice("refs/heads/".length)).length > 0);
  const others = heads.filter((u) => !moves.includes(u) && !NONE.test(u.new));
  const shadows = updates.filter((u) => !NONE.test(u.new) && !/^refs\/(heads|remotes|replace)\//.test(u.ref));
  if (moves.length === 0 && others.length === 0 && shadows.length === 0 && !updates.some((u) => u.ref.startsWith("refs/replace/"))) return []; // another branch's deletion
  const who = await run.who();
  const at = new Date().toISOString();
  // A replace ref makes every branch show another commit's content in place of one of its own (eighteenth trials: a
  // lapsed holder replaced a commit of a held WO's branch): a person's act. Removing one is anyone's.
  const refused: RefusedMove[] = updates
    .filter((u) => u.ref.startsWith("refs/replace/") && !NONE.test(u.new) && !who.admin)
    .map((u) => ({ ref: u.ref, message: `${u.ref}: git replace changes what every branch shows, work orders' too: an admin's act (WORKLEDGER_ROLE=admin in a person's shell)` }));
  if (!who.admin) {
    // A ref named like a branch wins over it wherever a command names it short (refs/<name> and refs/tags/<name> come before
    // refs/heads/<name>): `git merge wo/1-…` took a non-holder's forged commit through a tag (twenty-ninth trials), a
    // refs/wo/… one stopped the holder's checkpoint (thirtieth), and one named main every new worktree.
    for (const u of shadows) {
      const names = [u.ref.slice("refs/".length), ...(u.ref.startsWith("refs/tags/") ? [u.ref.slice("refs/tags/".length)] : [])];
      for (const name of names)
        if (git(cwd, ["rev-parse", "--verify", "--quiet", `refs/heads/${name}`]) !== null || name === run.base() || (await run.workOrders(name)).length > 0)
          refused.push({
            ref: u.ref,
            message: `${u.ref}: named like the branch ${name}, it would shadow it in every git command that names it (git merge ${name} would take it): name it otherwise`,
          });
    }
    // Any branch, not only a WO's: pulled into the main checkout, a committed .workledger turned every agent's ledger, and these
    // hooks' too, to one of an attacker's own (thirtieth trials).
    for (const u of others) {
      const now = git(cwd, ["rev-parse", "--verify", "--quiet", u.ref]);
      const pin = addsPin(cwd, now ?? run.base(), u.new, u.ref.slice("refs/heads/".length));
      if (pin) refused.push({ ref: u.ref, message: pin });
    }
  }
  for (const u of moves) {
    const branch = u.ref.slice("refs/heads/".length);
    // git names the old value the command expected (zeros when it named none, as `update-ref -d` does): read what it is.
    const now = git(cwd, ["rev-parse", "--verify", "--quiet", u.ref]);
    const move: BranchMove | null = NONE.test(u.new) ? (now === null ? null : "delete") : now === null ? "create" : now === u.new ? null : "move";
    if (move === null) continue; // no move: nothing to delete, or git packing its refs
    const pin = move === "delete" || who.admin ? null : addsPin(cwd, now ?? run.base(), u.new, branch);
    if (pin) refused.push({ ref: u.ref, message: pin });
    // A creation at the default branch's tip, a deletion of what the default branch holds (judgeBranchMove).
    const atBase =
      move === "create"
        ? git(cwd, ["rev-parse", "--verify", "--quiet", `${run.base()}^{commit}`]) === u.new
        : move === "delete" && git(cwd, ["merge-base", "--is-ancestor", now!, run.base()]) !== null;
    // Every project's: a name the caller's project does not know may be another's (twentieth trials: WORKLEDGER_PROJECT=other
    // let a non-holder move shop's branch).
    const wos = await run.workOrders(branch);
    if (move !== "delete" && !who.admin && wos.length > 0) for (const message of forbiddenFiles(cwd, now ?? run.base(), u.new, branch)) refused.push({ ref: u.ref, message });
    for (const wo of wos) {
      const why =
        judgeBranchMove(wo, move, who, at, atBase, wo.checkpoints.length > 0) ??
        (move === "delete" ? null : await outsideTheirLease(ledger, cwd, wo, who, `${now ?? run.base()}..${u.new}`));
      if (why) refused.push({ ref: u.ref, message: why, wo: { project: wo.project, id: wo.id, status: wo.status, holder: wo.lease?.agent ?? null } });
    }
  }
  return refused;
}

/** Why the holder's move may not bring `range`'s commits onto `wo`'s branch: some were made outside the lease they name. null: none. */
async function outsideTheirLease(ledger: LedgerApi, cwd: string, wo: WorkOrder, who: { agent: string | undefined; admin: boolean }, range: string): Promise<string | null> {
  if (who.admin || wo.lease === null || wo.lease.agent !== who.agent) return null;
  const bad = await madeOutsideTheirLease(ledger, cwd, range, { project: wo.project, id: wo.id, token: wo.lease.token });
  if (bad.length === 0) return null;
  const named = bad.slice(0, 3).map((c) => `${c.commit.slice(0, 12)} (${c.verdict?.message ?? "its Work-Order / Lease-Token trailers cannot be read"})`);
  return `${wo.branch}: ${bad.length} commit(s) it would take on were made outside the lease they name: ${named.join("; ")}${bad.length > 3 ? "; …" : ""}. They are not ${label(wo.id)}'s work under your lease: leave them out (git rebase -i, or git reset --hard to your last checkpoint), or redo the change under your lease`;
}

/**
 * A commit that brings `.workledger` onto a branch: checked out in the main
 * checkout, it replaces the file naming the ledger every agent and git hook
 * there uses (git overwrites it: it is only excluded, not tracked), and the
 * hooks then judge by another ledger, where nobody holds anything
 * (twenty-fifth trials). Refused with why; null when the branch had one or
 * the commit has none.
 */
function addsPin(cwd: string, before: string, after: string, branch: string): string | null {
  const has = (rev: string) => git(cwd, ["cat-file", "-e", `${rev}:${LEDGER_PIN}`]) !== null;
  if (!has(after) || has(before)) return null;
  return `${branch}: commit ${after.slice(0, 12)} adds ${LEDGER_PIN}, the file naming the ledger this machine's agents and git hooks use; it is never committed (checked out, it would turn them to another ledger): take it out (git rm --cached ${LEDGER_PIN}, then git commit --amend)`;
}

/**
 * What a move brings onto a WO's branch that checkpoint refuses too: agents'
 * client files or installed packages (isAgentClientPath), which the next
 * holder's client runs as that holder (thirty-fourth trials: a plain `git
 * commit` of `.claude/settings.json`), and files holding credentials. An
 * admin's act; why, one message each, none when it brings neither.
 */
function forbiddenFiles(cwd: string, before: string, after: string, branch: string): string[] {
  const names = (filter: string) => (git(cwd, ["diff", "--name-only", "-z", "--no-renames", `--diff-filter=${filter}`, before, after]) ?? "").split("\0").filter((p) => p !== "");
  const shown = (files: string[]) => files.slice(0, 5).join(", ") + (files.length > 5 ? `, … (${files.length})` : "");
  const clients = names("ACMT").filter(isAgentClientPath);
  // And credentials, as checkpoint refuses them: a plain commit put keys on the branch (thirty-fifth trials).
  const added = names("A");
  const secrets = [...new Set([...added.filter(isCredentialPath), ...credentialsAdded(cwd, before, after)])];
  return [
    ...(clients.length
      ? [
          `${branch}: ${after.slice(0, 12)} adds or changes ${shown(clients)}: files an agent's client runs (its hooks, MCP servers) or installed packages, which would run as the next holder of the work order; only an admin puts them on a work order's branch (WORKLEDGER_ROLE=admin in a person's shell): take them out (git rm -r --cached <path>, then git commit --amend)`,
        ]
      : []),
    ...(secrets.length
      ? [
          `${branch}: ${after.slice(0, 12)} adds ${shown(secrets)}, holding credentials every later holder of the work order would check out: take them out (git rm --cached <path>, add them to .gitignore, then git commit --amend); one meant to be shared is an admin's to commit`,
        ]
      : []),
  ];
}

/**
 * The WO a branch name is the branch of: the one made first, when two
 * projects' WOs share it (worktree.ts refuseSharedBranch); a later one's
 * holder neither moves it nor, holding its own, stops the first's (twenty-seventh MCP trial).
 */
const firstMade = (wos: WorkOrderWithNotes[]): WorkOrderWithNotes[] => {
  const owner = wos.length < 2 ? undefined : branchOwner(wos);
  return owner === undefined ? wos : [owner];
};

/** Which of two WOs sharing a branch name was made first (by project name when made at once). */
export const madeBefore = (a: { project: string; created_at: string }, b: { project: string; created_at: string }) =>
  a.created_at < b.created_at || (a.created_at === b.created_at && a.project < b.project);

/**
 * Whose a branch name several projects' WOs share is: the one made first, a
 * cancelled one never (it holds no work anyone wants: twenty-ninth MCP
 * trial); undefined when all are cancelled.
 */
export function branchOwner<T extends { project: string; created_at: string; status: WorkOrder["status"] }>(wos: readonly T[]): T | undefined {
  return wos.filter((w) => w.status !== "cancelled").reduce<T | undefined>((first, w) => (first === undefined || madeBefore(w, first) ? w : first), undefined);
}

/** What one run of the hook reads of the ledger, read once: the fence and the recorder of one `prepared` ask the same. */
export interface HookRun {
  who(): Promise<{ agent: string | undefined; admin: boolean }>;
  workOrders(branch: string): Promise<WorkOrderWithNotes[]>;
  /** The repository's default branch (a few git calls: asked once per run). */
  base(): string;
}

export function hookRun(ledger: LedgerApi, cwd: string, caller: Caller): HookRun {
  let who: ReturnType<HookRun["who"]> | undefined;
  const wos = new Map<string, Promise<WorkOrderWithNotes[]>>();
  return {
    base: once(() => defaultBranch(cwd)),
    who: () => (who ??= callerOf(ledger, cwd, caller)),
    workOrders: (branch) => {
      let found = wos.get(branch);
      if (found === undefined) wos.set(branch, (found = workOrdersOfBranch(ledger, branch).then(firstMade)));
      return found;
    },
  };
}

/** Who moves the branch: a remote ledger knows it by the token; inside a worktree workledger made, its tag names the agent it was made for. */
async function callerOf(ledger: LedgerApi, cwd: string, caller: Caller): Promise<{ agent: string | undefined; admin: boolean }> {
  const me = ledger.knowsCaller ? await ledger.whoami() : null;
  return { agent: me?.agent ?? caller.agent ?? worktreeTag(cwd)?.agent, admin: me ? me.role === "admin" : caller.admin };
}

/**
 * After git made the moves (the hook's `committed` state): each move of a WO's
 * branch by its live holder is recorded as a checkpoint, whatever made it
 * (`merge`, `pull`, `reset`, `rebase`, a commit). Done judges a pass by the
 * last checkpoint (twentieth trials: after a `pull --ff-only` the ledger
 * still named the commit before it, and a pass there in a clone finished the
 * WO on code its branch no longer had). Only the holder's own moves are
 * recorded; a branch not yet moved past the default branch holds no work.
 * Never fails: git has made the moves already.
 */
export async function recordBranchMoves(ledger: LedgerApi, cwd: string, updates: RefUpdate[], caller: Caller, run = hookRun(ledger, cwd, caller)): Promise<CheckpointResult[]> {
  const parent = parentArgs();
  if (gitSubcommand(parent) === "pack-refs") return [];
  const all = withRenameTarget(updates, parent);
  // git rewrites a ref with its own value too (`worktree add` checking the branch out): no move, nothing of the holder's.
  const moves = all.filter((u) => u.ref.startsWith("refs/heads/") && !NONE.test(u.new) && u.old !== u.new && idsOfBranch(u.ref.slice("refs/heads/".length)).length > 0);
  if (moves.length === 0) return [];
  const who = await run.who();
  if (who.agent === undefined) return [];
  const out: CheckpointResult[] = [];
  for (const u of moves)
    for (const wo of await run.workOrders(u.ref.slice("refs/heads/".length))) {
      // The WO as read says whose it is and where its checkpoints are; recordCheckpoint judges the lease's liveness.
      if (wo.lease === null || wo.lease.agent !== who.agent) continue;
      const last = wo.checkpoints.at(-1)?.commit;
      if (last === u.new || (last === undefined && git(cwd, ["merge-base", "--is-ancestor", u.new, run.base()]) !== null)) continue;
      const message = git(cwd, ["log", "-1", "--format=%s", u.new]) || "(no message)";
      const mine = { project: wo.project, id: wo.id, agent: who.agent, lease_token: wo.lease.token };
      const recorded = await ledger.recordCheckpoint({ ...mine, commit: u.new, message }).catch(() => null);
      if (recorded) out.push(recorded);
    }
  return out;
}

/**
 * The command line of the git process that runs this hook (Linux: /proc;
 * elsewhere nothing). git's pack-refs (run by `gc`, also automatically)
 * rewrites every loose ref as a creation in packed-refs, then deletes the
 * loose one: neither moves a branch. Elsewhere its pseudo-creations are told
 * apart by their value, and its deletions of a held WO's loose ref are
 * refused, which leaves that ref loose and correct.
 */
function parentArgs(): string[] {
  try {
    return readFileSync(`/proc/${process.ppid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** Global options of git that take the next argument as their value. */
const WITH_VALUE = new Set(["-c", "-C", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix"]);

/**
 * The git command `args` (a git process's command line) runs: its first
 * argument that is not a global option. Not any argument that reads like one:
 * `update-ref -m pack-refs` passed for git's own ref packing, and a lapsed
 * holder moved a WO's branch unfenced (thirty-third trials).
 */
export function gitSubcommand(args: readonly string[]): string | undefined {
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (WITH_VALUE.has(a)) i++;
    else if (!a.startsWith("-")) return a;
  }
  return undefined;
}

/**
 * git branch -m writes the new name outside any transaction: only the old
 * one's deletion reaches this hook, so the new name is read from git's command
 * line and taken as the branch the old one's commit is put on (nineteenth trials).
 */
function withRenameTarget(updates: RefUpdate[], parent: readonly string[]): RefUpdate[] {
  const renamed = renameTarget(parent);
  if (renamed === null) return updates;
  const deleted = updates.filter((u) => u.ref.startsWith("refs/heads/") && NONE.test(u.new) && !NONE.test(u.old));
  return [...updates, ...deleted.map((u) => ({ old: ZERO, new: u.old, ref: `refs/heads/${renamed}` }))];
}

/** The new name of a `git branch -m|-M|--move … NEW` (the last argument), or null. `git branch -c` (copy) runs no hook at all. */
function renameTarget(args: readonly string[]): string | null {
  const at = args.indexOf("branch");
  if (at < 0 || gitSubcommand(args) !== "branch" || !args.slice(at + 1).some((a) => a === "-m" || a === "-M" || a === "--move")) return null;
  const last = args.at(-1);
  return last === undefined || last.startsWith("-") ? null : last.replace(/^refs\/heads\//, "");
}
