/**
 * Whether `done` may be set now (DESIGN.md §9): the verification a WO's
 * holder must have passed, under which lease and where, and what finishing
 * without it costs (a warning, or a refusal where the project requires it).
 */
import { LedgerError } from "./errors.js";
import { assertDoneStage } from "./stages.js";
import { authorsOf } from "./verification.js";
import { label } from "./types.js";
import type { GitState, ProjectPolicy, Role, StoredWorkOrder, VerificationRecord } from "./types.js";

/** How the caller finishes (status done): the project's policy, the caller's role, and an admin's reason to finish unverified. */
export interface Finish {
  policy: ProjectPolicy;
  role: Role | undefined;
  unverifiedReason?: string | undefined;
  /** Its dependencies that are not done: done waits for them. */
  pending: readonly number[];
  /** Its newest checkpoint (undefined: none): a pass from before it verified other work. */
  lastCheckpoint?: { commit: string; at: string } | undefined;
  /** The caller's work tree: standing on the WO's branch, where that branch is now; null: the door said it stands outside git. */
  here?: GitState | null | undefined;
  /** The repository the caller finishes from (its main work tree); undefined: outside git, or the door did not say. */
  finishedIn?: string | undefined;
}

/** Said with DEPENDENCY_PENDING (thirteenth MCP trial: a cancelled dependency was "not done yet"). */
export const CANCELLED_DEPENDENCY = "a cancelled dependency never will be done: its dependent's creator or an admin drops it ({{op:update}} {{depends_on}})";

/** What a releaser that no longer holds the WO does to finish it after all. */
const CLAIM_AGAIN = "you no longer hold it: {{op:claim}} it again, fix what fails and {{op:verify}} until it passes, then {{op:release}} {{status=done}}";

/** A path of an earlier attempt's worktree of the WO (exec/worktree.ts names them wo-<id>-lease-<token>), where its holder now may not verify. */
function earlierWorktree(path: string | undefined, wo: StoredWorkOrder): boolean {
  const m = /(?:^|\/)wo-(\d+)-lease-(\d+)$/.exec(path ?? "");
  return m !== null && Number(m[1]) === wo.id && Number(m[2]) !== wo.lease?.token;
}

/** The verification command `done` is judged by: the holder's pinned one, or without a lease the current one. */
export const commandForDone = (wo: StoredWorkOrder) => (wo.lease ? (wo.pinned_verification ?? wo.verification) : wo.verification);

/**
 * The record of a new verification result: a pass after a failure answers it
 * only where that failure ran (the same directory) or at the top of a work
 * tree on the WO's own branch in the same repository (its worktree); a pass
 * elsewhere is recorded,
 * and the failure stays unanswered (issue 23, eighth, ninth and thirteenth
 * trials: a failing verify, then a passing one in a scratch directory,
 * another WO's worktree or a subdirectory of its own, then done).
 */
export function verificationRecord(
  prev: VerificationRecord | null,
  next: VerificationRecord,
  at: { dir?: string | undefined; branch?: string | null | undefined; top?: string | undefined; repo?: string | undefined },
  woBranch: string,
  id: number,
): VerificationRecord {
  const record: VerificationRecord = {
    ...next,
    ...(at.dir === undefined ? {} : { where: at.dir }),
    ...(at.repo === undefined ? {} : { repo: at.repo }),
    ...(at.branch == null ? {} : { branch: at.branch }),
  };
  if (at.branch === woBranch || (prev !== null && prev.token === next.token && prev.on_its_branch)) record.on_its_branch = true;
  if (!next.passed) return record;
  if (prev !== null && (!prev.passed || prev.after_failure)) record.after_failure = true;
  const open = prev === null ? undefined : !prev.passed ? prev.where : prev.failed_in;
  const openRepo = prev === null ? undefined : !prev.passed ? prev.repo : prev.failed_repo;
  const openBranch = prev === null ? undefined : !prev.passed ? prev.branch : prev.failed_branch;
  // The same directory on another branch is other work (fifteenth trials: a branch made there to pass).
  const sameDir = at.dir === open && (at.branch ?? undefined) === openBranch;
  // On its branch counts only in the same repository (fourteenth trials: a clone, or a repository made with that branch name).
  // A failure outside git names no repository: then the top of any work tree on its branch answers it (twenty-third trials: a
  // failure in a scratch directory could be answered only there, and stopped every later holder). The current lease's own
  // worktree (exec/worktree.ts names it …/wo-<id>-lease-<token>) answers any failure: it is where the work is (twenty-fourth
  // MCP trial: a failure in a clone since deleted stopped every later holder).
  const atTop = at.branch != null && at.branch === woBranch && at.dir !== undefined && at.dir === at.top && at.repo !== undefined;
  const ownWorktree = atTop && next.token !== null && at.dir!.endsWith(`/wo-${id}-lease-${next.token}`);
  const onItsBranch = atTop && (openRepo === undefined || at.repo === openRepo || ownWorktree);
  const answers = open === undefined || sameDir || onItsBranch;
  return answers
    ? record
    : { ...record, failed_in: open, ...(openRepo === undefined ? {} : { failed_repo: openRepo }), ...(openBranch === undefined ? {} : { failed_branch: openBranch }) };
}

/**
 * Whether `done` may be set now (DESIGN.md §9). Where the project requires it,
 * the WO's verification command must have passed under the current lease
 * (VERIFICATION_REQUIRED otherwise, unless an admin gives a reason); elsewhere
 * finishing without that only warns, and the event says `unverified`.
 */
export function checkDone(wo: StoredWorkOrder, agent: string, finish: Finish | undefined, stage: string | null): { warnings: string[]; data: Record<string, unknown> } {
  if (finish) assertDoneStage(wo, stage, finish.policy);
  const pending = finish?.pending ?? [];
  // Without a lease (the releaser's own follow-up) nothing is left to release: the way on is to claim it again (thirteenth trials).
  const held = wo.lease !== null;
  if (pending.length > 0) {
    throw new LedgerError("DEPENDENCY_PENDING", `${label(wo.id)} cannot be done: it depends on ${pending.map(label).join(", ")}, not done yet`, {
      hint: `${held ? "finish those first, or {{op:release}} it with a note saying what it waits for" : "those come first: it stays as it is meanwhile; {{op:claim}} it again once they are done"}; ${CANCELLED_DEPENDENCY}`,
      details: { project: wo.project, id: wo.id, pending },
    });
  }
  const command = commandForDone(wo);
  // A WO without a command is not verified by finishing it: it warns (or, where verification is required, is refused) like one never run.
  const none = !command.trim();
  const v = none ? null : wo.last_verification;
  const lease = wo.lease;
  // The attempt `done` ends: the live lease's, or without one the last attempt (the caller's own, see withoutLease).
  const attempt = lease === null ? wo.fence : lease.token;
  // A command edited under the lease makes a pass of the pinned one stale: done would rest on a check the WO no longer states.
  const changed = lease !== null && wo.pinned_verification !== null && wo.pinned_verification !== wo.verification;
  // A pass counts for the command that ran: one changed since (even between attempts) needs its own run.
  const sameCommand = v?.command === undefined || v.command === command;
  // A pass verified the work as it was: checkpointed since, the work changed (issue 23, twelfth MCP trial: a breaking checkpoint, then done).
  const checkpoint = finish?.lastCheckpoint;
  // Standing on the WO's branch, the caller sees where it is now: moved from the commit that passed (reset, a ref moved by
  // hand: seventeenth trials), it no longer holds what passed.
  const here = finish?.here;
  // The door names the WO's branch as it is in the caller's repository wherever the caller stands (doors/finish-here.ts), so a
  // pass elsewhere at another commit (on main, with the branch ahead of it: twenty-fourth trials) is judged the same way.
  const moved = v !== null && v.head !== undefined && here?.branch === wo.branch && here.head !== v.head;
  const checkpointed = v !== null && checkpoint !== undefined && checkpoint.at > v.at;
  const outdated = checkpointed || moved;
  // The work is on the WO's branch (checkpointed there) and the pass ran in a work tree on another branch or a detached HEAD
  // (of this repository or another): it did not check that work (eighteenth trials: checkpoint broken work, pass on main, done).
  // So did a pass outside any work tree (eighteenth trials); one whose door said nothing of git is judged as before.
  // So does a pass elsewhere after this lease verified on the branch, checkpointed or not (twenty-third trials: a pass on
  // uncommitted changes in the worktree, then one in a scratch copy, then done).
  // Where the project requires verification, only a pass on the WO's branch counts, work there or not (twenty-fifth trials:
  // a pass in a scratch directory outside git finished a WO with nothing on its branch).
  const required = finish?.policy.require_verification === true;
  const offBranch =
    v !== null &&
    v.passed &&
    (checkpoint !== undefined || v.on_its_branch === true || required) &&
    (v.head !== undefined ? (v.branch ?? null) !== wo.branch : v.outside_git === true);
  // On a branch of its name, but not at its last checkpoint (later, the pass ran first: `checkpointed`): another commit, as in a
  // clone made to pass (nineteenth trials). `checkpoint` records one's own later commits, so the way on is one step.
  const offCheckpoint = v !== null && v.passed && !offBranch && !checkpointed && checkpoint !== undefined && v.head !== undefined && v.head !== checkpoint.commit;
  // It ran outside git, or in another repository, while the caller finishes from a repository: it did not check the work
  // there (thirty-fourth trials: verify --dir a scratch folder, or an unrelated repository, then done with no word).
  const finishedIn = finish?.finishedIn;
  // So did one on a detached HEAD: a checkout of some commit, not work on a branch (thirty-fifth trials: a detached checkout
  // of another WO's branch passed for a WO with no work of its own).
  const detached = v !== null && v.passed && v.head !== undefined && (v.branch ?? null) === null;
  // So did one on a branch that is neither the WO's nor the one the caller finishes on (thirty-sixth trials: a branch made
  // to pass, then done from main, which still failed).
  const otherBranch = v !== null && v.passed && v.branch != null && v.branch !== wo.branch && here != null && here.branch !== v.branch;
  const elsewhere = detached || otherBranch || (v !== null && v.passed && finishedIn !== undefined && (v.outside_git === true || (v.repo !== undefined && v.repo !== finishedIn)));
  const verified =
    !elsewhere &&
    !changed &&
    !outdated &&
    !offBranch &&
    !offCheckpoint &&
    sameCommand &&
    v !== null &&
    v.passed &&
    v.failed_in === undefined &&
    (v.token === attempt || (lease === null && v.token === null));
  // Its work is on its branch, and the caller stands outside git: where that branch is now cannot be checked from there
  // (twenty-fourth trials: done from /tmp on a branch a non-holder had moved since the pass).
  if (verified && here === null && (checkpoint !== undefined || v.on_its_branch === true))
    throw new LedgerError(
      "VERIFICATION_REQUIRED",
      `${label(wo.id)} cannot be done from outside git: its work is on its branch ${wo.branch}, and whether that branch is still where its verification passed (${v.head?.slice(0, 12) ?? "?"}) is checked only from its repository`,
      {
        hint: "finish it from the repository or your worktree for it",
        details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
      },
    );
  if (verified) {
    if (!v.dirty) return { warnings: [], data: {} };
    // Changes the command made as it ran are not work to commit: they may be another author's (twenty-fifth MCP trial).
    const byRun = v.changed_by_run ? " (the verification command itself changed them as it ran: look at them before you keep any)" : "";
    // HEAD moved while it ran (a commit or checkout meanwhile): the run checked neither commit as it is (twenty-fourth MCP trial).
    const ranOn = v.head_moved ? "ran while HEAD moved (a commit or checkout during the run), not on one commit" : "ran on uncommitted changes";
    // It passed on uncommitted changes. On the WO's branch, checkpointing them is one step away, and done would leave the branch
    // without what passed (fifteenth trials: the warning came when no step was left): refused. Elsewhere it warns, unless it
    // was to answer a failure: what no commit holds answers none (nineteenth MCP trial).
    if (v.after_failure)
      throw new LedgerError(
        "VERIFICATION_REQUIRED",
        `${label(wo.id)} cannot be done: its verification failed, and the pass after it ${ranOn}${v.where ? ` in ${v.where}` : ""}, which no commit holds${byRun}`,
        {
          hint: held ? "commit them (on the work order's branch: {{op:checkpoint}}), {{op:verify}} again, then finish" : CLAIM_AGAIN,
          details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
        },
      );
    // Marked as what it is: no commit holds what passed (thirty-sixth trials: warned, and the event said nothing).
    if (v.branch !== wo.branch)
      return {
        warnings: [`${label(wo.id)}'s passing verification ${ranOn}${v.where ? ` in ${v.where}` : ""}: no branch holds what passed until they are committed${byRun}`],
        data: { unverified: true },
      };
    const reason = finish?.unverifiedReason;
    if (reason !== undefined && finish?.role === "admin") return { warnings: [], data: { unverified: true, unverified_reason: reason } };
    throw new LedgerError(
      "VERIFICATION_REQUIRED",
      `${label(wo.id)} cannot be done: its passing verification ${ranOn}, so its branch ${wo.branch} does not hold what passed${byRun}`,
      {
        hint: !held
          ? CLAIM_AGAIN
          : v.head_moved
            ? "{{op:verify}} again while nothing moves HEAD (checkpoint first if git status shows changes), then finish"
            : v.changed_by_run
              ? "discard the changes the command made (git status names them; ignore build output in .gitignore), {{op:checkpoint}} only your own work, {{op:verify}} again, then finish"
              : "{{op:checkpoint}} to commit them on its branch, {{op:verify}} again, then finish",
        details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
      },
    );
  }
  // The newest verification FAILED, in this attempt or an earlier one, the caller's or another agent's: done waits for a pass
  // (issue 23, sixth trials: a second agent claimed a WO that had just failed and finished it at once).
  const failedNow = v !== null && (!v.passed || v.failed_in !== undefined);
  const what = none
    ? "it has no verification command"
    : changed
      ? `its verification command changed after the claim (now ${JSON.stringify(wo.verification)}): claim it again to verify with it`
      : v === null
        ? "no verification was recorded"
        : !v.passed
          ? `the last verification FAILED (${v.at})`
          : v.failed_in !== undefined
            ? v.where === v.failed_in
              ? `its last failing verification ran in ${v.failed_in} on ${v.failed_branch ?? "a detached HEAD"}, and a pass there on ${v.branch ?? "a detached HEAD"} (another branch) does not answer it: verify there on ${v.failed_branch ?? "the branch it failed on"}, or in the work order's worktree`
              : `its last failing verification ran in ${v.failed_in}, and a pass elsewhere (${v.where ?? "not said"}) does not answer it: ${earlierWorktree(v.failed_in, wo) ? "verify in your own worktree for it (that one was an earlier attempt's)" : "verify there or in the work order's worktree"}`
            : !sameCommand
              ? `its command changed since it last passed (it ran ${JSON.stringify(v.command)})`
              : checkpointed
                ? `it was checkpointed (${checkpoint.commit.slice(0, 12)} at ${checkpoint.at}) after its verification passed (${v.at})`
                : moved
                  ? `its branch ${wo.branch} is at ${here!.head.slice(0, 12)} now, not at ${v.head!.slice(0, 12)} where its verification passed (${v.at})`
                  : otherBranch
                    ? `its passing verification ran on ${v.branch}${v.where ? ` in ${v.where}` : ""}, not on its branch ${wo.branch}${here!.branch !== wo.branch ? ` nor on ${here!.branch ?? "the detached HEAD"} you finish it from` : ""}`
                    : detached
                      ? `its passing verification ran on a detached HEAD (${v.head!.slice(0, 12)}${v.where ? ` in ${v.where}` : ""}), a checkout of a commit, not the work on a branch`
                      : elsewhere
                        ? `its passing verification ran in ${v.where ?? "a directory not said"}, ${v.outside_git ? "outside git" : `in another repository (${v.repo})`}, not in the repository you finish it from (${finishedIn}): it did not check the work there`
                        : "its passing verification was under an earlier lease";
  const reason = finish?.unverifiedReason;
  if (reason !== undefined) {
    if (finish?.role !== "admin")
      throw new LedgerError("FORBIDDEN", `only admins may finish ${label(wo.id)} without a passing verification`, {
        hint: failedNow
          ? "fix what fails and {{op:verify}} again, or {{op:release}} {{status=blocked}} with a note"
          : finish?.policy.require_verification
            ? "{{op:verify}} until it passes (the project requires it), or ask an admin to finish it"
            : "leave out the reason: done without a passing verification only warns here",
        details: { project: wo.project, id: wo.id },
      });
    return { warnings: [], data: { unverified: true, unverified_reason: reason } };
  }
  if (failedNow && v.failed_in !== undefined) {
    throw new LedgerError("VERIFICATION_REQUIRED", `${label(wo.id)} cannot be done: ${what}`, {
      hint: held
        ? `{{op:verify}} ${earlierWorktree(v.failed_in, wo) ? "in your worktree for it" : `in ${v.failed_in} or in the work order's worktree`} ({{op:worktree}}, on branch ${wo.branch}) until it passes, or {{op:release}} {{status=blocked}} with a note saying what fails`
        : CLAIM_AGAIN,
      details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
    });
  }
  if (failedNow) {
    throw new LedgerError(
      "VERIFICATION_REQUIRED",
      `${label(wo.id)} cannot be done: its verification FAILED ${v.token === attempt ? (lease ? "in this attempt" : "in its last attempt") : `when ${v.agent} ran it in an earlier attempt`} (${v.at}), and none has passed since${v.command !== undefined && v.command !== command ? ` (it ran ${JSON.stringify(v.command)}; the command is now ${JSON.stringify(command)})` : `: ${command}`}`,
      {
        hint: held ? "fix what fails and {{op:verify}} again until it passes, or {{op:release}} {{status=blocked}} with a note saying what fails" : CLAIM_AGAIN,
        details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
      },
    );
  }
  if (offCheckpoint && !changed && sameCommand)
    throw new LedgerError(
      "VERIFICATION_REQUIRED",
      `${label(wo.id)} cannot be done: its verification passed at ${v.head!.slice(0, 12)}${v.where ? ` in ${v.where}` : ""}, not at its last recorded checkpoint ${checkpoint.commit.slice(0, 12)} (a commit of its branch the ledger was not told of counts once checkpointed)`,
      {
        hint: held ? "in your worktree for it ({{op:worktree}}): {{op:checkpoint}} (it records your own commits too), {{op:verify}} again, then finish" : CLAIM_AGAIN,
        details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
      },
    );
  if (offBranch && !changed && sameCommand)
    throw new LedgerError(
      "VERIFICATION_REQUIRED",
      `${label(wo.id)} cannot be done: its verification passed ${v.branch ? `on ${v.branch}` : v.outside_git ? "outside any git work tree" : "on a detached HEAD"}${v.where ? ` in ${v.where}` : ""}, not on its branch ${wo.branch}, ${checkpoint || v.on_its_branch ? `which holds its ${checkpoint ? `checkpointed work (${checkpoint.commit.slice(0, 12)})` : "work (you verified there before)"}: that pass did not check it` : `and project ${wo.project} requires a pass on it`}`,
      {
        hint: held ? "{{op:verify}} in its worktree ({{op:worktree}}) until it passes, then finish" : CLAIM_AGAIN,
        details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
      },
    );
  // A pass that answered a failure, or ran on uncommitted changes, then a checkpoint: the work that passed is not what the branch
  // holds now (sixteenth trials: fail, pass on uncommitted changes, break them, checkpoint, done).
  if (outdated && (v.after_failure || v.dirty)) {
    const passed = v.after_failure ? "its verification failed before it passed" : "it passed on uncommitted changes";
    throw new LedgerError("VERIFICATION_REQUIRED", `${label(wo.id)} cannot be done: ${passed}, and ${what}`, {
      hint: held ? "{{op:verify}} the work as it is now until it passes, then finish" : CLAIM_AGAIN,
      details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
    });
  }
  if (finish?.policy.require_verification) {
    throw new LedgerError(
      "VERIFICATION_REQUIRED",
      `${label(wo.id)} cannot be done yet: project ${wo.project} requires a passing verification under the current lease, and ${what}`,
      {
        hint: none
          ? `${authorsOf(finish.policy.verification_authors, wo)} sets a verification command ({{op:update}} {{verification=npm test}}); then claim, {{op:verify}} and finish, or an admin finishes it with a reason`
          : held
            ? "run {{op:verify}} while you hold it and fix what fails until it passes, then finish; if it cannot pass, {{op:release}} {{status=blocked}} with a note"
            : CLAIM_AGAIN,
        details: { project: wo.project, id: wo.id, command, last_verification: v, by: agent },
      },
    );
  }
  const shown = none ? "" : ` (command: ${command})`;
  return { warnings: [`${label(wo.id)} is done without a passing verification: ${what}${shown}`], data: { unverified: true } };
}
