/**
 * `workledger checkpoint` (issue 26): commits the holder's work tree, tracked
 * and untracked files alike (not what .gitignore leaves out), to the WO's
 * branch, so its work outlives its lease. The order keeps a lapsed holder
 * from moving the branch: the commit is made without moving anything, the
 * ledger records it under the live lease (or refuses), and only then does
 * the branch move to it.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { LedgerApi } from "../core/api.js";
import { LedgerError } from "../core/errors.js";
import type { CheckpointResult, Held } from "../core/ledger.js";
import { agentName, inputs, type Inputs } from "../core/schemas.js";
import { trailerLines } from "../core/trailers.js";
import { noIdentity, parse } from "../core/validate.js";
import { asAgent, credentialsAdded, git, gitOrFail, hiddenChanges, LEDGER_PIN, mainWorkTree, redirected, redirectOf, submodules } from "./git.js";
import { refuseSharedBranch, unrecordedTip, worktreePath, worktreeTag } from "./worktree.js";
import { isAgentClientPath } from "../core/sandbox.js";
import { isCredentialPath } from "../core/credentials.js";
import { defaultBranch } from "./branch.js";
import { dependencyWork, scopeWarnings } from "./scope.js";
import { unvouched, type CheckedCommit } from "./commits.js";

export type CheckpointOutcome =
  (CheckpointResult & { dir: string; branch: string; files: number; warnings?: string[] }) | { nothing: true; dir: string; branch: string; id: number };

export async function checkpoint(ledger: LedgerApi, input: Inputs["commitCheckpoint"]): Promise<CheckpointOutcome> {
  const c = parse(inputs.commitCheckpoint.extend({ agent: agentName.optional() }), input);
  if (!ledger.knowsCaller && c.agent === undefined) throw noIdentity();
  const who = { project: c.project, agent: c.agent as string, role: c.role, id: c.id, ...(c.lease_token !== undefined ? { lease_token: c.lease_token } : {}) };
  const held = await ledger.holding(who);
  const here = resolve(c.dir ?? process.cwd());
  const target = redirectOf(here, held.branch);
  if (target !== null) throw redirected(held.branch, target, "nothing was committed");
  const dir = workTreeOf(held, here);
  await refuseSharedBranch(ledger, held, held.branch);
  // `git add --all` leaves them out, and the work would read as checkpointed (twenty-first MCP trial: "nothing" to commit).
  const hidden = hiddenChanges(dir);
  if (hidden.length > 0) {
    const some = hidden.slice(0, 5).map((f) => JSON.stringify(f));
    throw new LedgerError(
      "VALIDATION",
      `${hidden.length} changed file(s) are hidden from git (skip-worktree or assume-unchanged): ${some.join(", ")}${hidden.length > 5 ? ", …" : ""}; nothing was committed`,
      {
        hint: `let git see them (git update-index --no-skip-worktree --no-assume-unchanged -- ${some.join(" ")}, run in ${dir}), then checkpoint again`,
        details: { hidden },
      },
    );
  }
  const head = gitOrFail(dir, ["rev-parse", "--verify", "HEAD"], "read HEAD");
  const last = held.checkpoints.at(-1)?.commit;
  // Where this checkpoint's work starts: the last checkpoint, else the default branch (a few git calls: read once).
  const since = last ?? defaultBranch(dir);
  const others = await othersCommits(ledger, dir, `${since}..${head}`);
  const unrecorded = others.length === 0 ? unrecordedTip(dir, since, held.branch, held.checkpoints) : null;
  if (unrecorded) others.push(`recorded as yours: ${unrecorded}`);
  const scoped = async (tip: string) => [...others, ...scopeWarnings(dir, since, tip, held, await dependencyWork(ledger, held))];
  const staged = git(dir, ["write-tree"]); // what the caller had staged, put back if the ledger refuses
  const unstage = () => {
    if (staged === null || git(dir, ["read-tree", staged]) === null) git(dir, ["reset", "--quiet"]);
  };
  gitOrFail(dir, ["add", "--all"], "stage the work tree's changes");
  const tree = gitOrFail(dir, ["write-tree"], "write the tree");
  // A .workledger on the branch, checked out or merged in the main checkout, turns every agent's ledger elsewhere
  // (twenty-sixth trials: committed with the hooks skipped, it reached done unsaid).
  if (git(dir, ["cat-file", "-e", `${tree}:${LEDGER_PIN}`]) !== null) {
    unstage();
    throw new LedgerError(
      "VALIDATION",
      `${held.branch} holds ${LEDGER_PIN}, the file naming the ledger this machine's agents and git hooks use; it is never committed: nothing was checkpointed`,
      {
        hint: `take it out of the branch (git rm --cached ${LEDGER_PIN} in ${dir}, then commit), then checkpoint again`,
        details: { file: LEDGER_PIN, branch: held.branch },
      },
    );
  }
  // An agent's client files and node_modules run in the next holder's client, unasked, as that holder (thirty-second MCP
  // trial: a checkpointed node_modules/.bin/workledger ran when the next holder's client started `npx workledger mcp` there).
  // Since the last checkpoint, not only what is uncommitted: a plain commit made without the hooks carried them too
  // (thirty-sixth MCP trial: `.mcp.json` and a token committed with git, then a checkpoint took them on).
  const from = last ?? git(dir, ["merge-base", since, head]) ?? since; // where the branch left the default branch
  const agentFiles = (git(dir, ["diff", "--name-only", "-z", from, tree]) ?? "").split("\0").filter((p) => p !== "" && isAgentClientPath(p));
  if (agentFiles.length > 0 && c.role !== "admin") {
    unstage();
    const some = agentFiles.slice(0, 5);
    throw new LedgerError(
      "VALIDATION",
      `${some.join(", ")}${agentFiles.length > 5 ? ", …" : ""}: an agent's client files and node_modules are never checkpointed, since the next holder's client would run them as that holder; nothing was checkpointed`,
      {
        // Each up to its client's own folder or file (thirty-fifth MCP trial: `git rm -r --cached src` for src/.claude/…).
        hint: `keep them out of the branch (add them to .gitignore, or git rm -r --cached ${[...new Set(some.map(clientPart))].join(" ")} in ${dir}), then checkpoint again; a project that ships one has a person commit it`,
        details: { files: agentFiles.slice(0, 50) },
      },
    );
  }
  // Credentials a later holder would check out with the work (thirty-fourth trials); an .npmrc only with a token in it.
  const added = (git(dir, ["diff", "--name-only", "-z", "--no-renames", "--diff-filter=A", from, tree]) ?? "").split("\0").filter((p) => p !== "");
  const secrets = [...new Set([...added.filter(isCredentialPath), ...credentialsAdded(dir, from, tree)])];
  if (secrets.length > 0) {
    unstage();
    throw new LedgerError(
      "VALIDATION",
      `${secrets.slice(0, 5).join(", ")}${secrets.length > 5 ? ", …" : ""}: files that hold credentials are never checkpointed, since every later holder of the work order checks them out; nothing was checkpointed`,
      {
        hint: `keep them out of the branch (add them to .gitignore, or delete them if the work made them), then checkpoint again; a sample without secrets (.env.example) is checkpointed, and one meant to be shared (a test's fixture) is an admin's to commit`,
        details: { files: secrets.slice(0, 50) },
      },
    );
  }
  // A folder holding a repository of its own is committed as its commit alone, none of its files (twenty-eighth trials: the
  // branch's checkout had an empty lib/ and the test that passed in the worktree could not run).
  const nested = submodules(dir).filter((m) => !m.safe);
  if (nested.length > 0) {
    unstage();
    const paths = nested.map((m) => m.path);
    throw new LedgerError(
      "VALIDATION",
      `${paths.join(", ")} holds a git repository of its own: git would commit only which commit it is at, none of its files; nothing was checkpointed`,
      {
        hint: `to keep its files in this branch, remove its repository (rm -rf ${paths.map((p) => `${p}/.git`).join(" ")}, in ${dir}) and checkpoint again; for a real submodule, git submodule add its URL`,
        details: { nested: paths },
      },
    );
  }
  if (tree === gitOrFail(dir, ["rev-parse", `${head}^{tree}`], "read HEAD's tree")) {
    // Nothing to commit, but the holder's own commits since the last checkpoint (a merge, a commit of its own) are
    // recorded as they are (tenth MCP trial: they were "nothing", and the next worktree's checkpoint named an older one).
    // A HEAD moved back (its own reset) after a checkpoint is recorded too: done judges a pass by the last one (twentieth trials).
    if (head === last || (last === undefined && isIn(dir, head, since))) return { nothing: true, dir, branch: held.branch, id: held.id };
    const recorded = await ledger.recordCheckpoint({
      ...who,
      commit: head,
      message: c.message,
      ...(c.idempotency_key !== undefined ? { idempotency_key: c.idempotency_key } : {}),
    });
    return { ...recorded, dir, branch: held.branch, files: 0, ...withWarnings(recorded, await scoped(head)) };
  }
  const files = gitOrFail(dir, ["diff", "--cached", "--name-only", head], "list the changes").split("\n").filter(Boolean).length;
  const message = [c.message, "", ...trailerLines({ project: held.project, id: held.id, token: held.lease.token })].join("\n") + "\n";
  const commit = gitOrFail(dir, ["commit-tree", tree, "-p", head, "-F", "-"], "make the checkpoint commit", {
    input: message,
    ...asAgent(held.lease.agent, withIdentity(dir, held.lease.agent)),
  });
  let recorded: CheckpointResult;
  try {
    recorded = await ledger.recordCheckpoint({ ...who, commit, message: c.message, ...(c.idempotency_key !== undefined ? { idempotency_key: c.idempotency_key } : {}) });
  } catch (e) {
    unstage(); // the files stay as they are
    throw e;
  }
  gitOrFail(
    dir,
    ["update-ref", "-m", `workledger checkpoint WO-${held.id}`, `refs/heads/${held.branch}`, commit, head],
    `move ${held.branch} to the checkpoint ${commit}`,
    asAgent(held.lease.agent),
  );
  return { ...recorded, dir, branch: held.branch, files, ...withWarnings(recorded, await scoped(commit)) };
}

/** A client's path up to its own folder or file: `src/.claude` of `src/.claude/settings.json`. */
const clientPart = (path: string) => {
  const parts = path.split("/");
  const at = parts.findIndex((p) => isAgentClientPath(p));
  return parts.slice(0, at < 0 ? 1 : at + 1).join("/");
};

/** The ledger's warnings about the checkpoint and the door's about the commits it takes on, together. */
const withWarnings = (recorded: CheckpointResult, others: string[]): { warnings?: string[] } => {
  const all = [...(recorded.warnings ?? []), ...others];
  return all.length ? { warnings: all } : {};
};

/**
 * What a checkpoint says about the commits since the last one that it makes
 * the holder's without their being its: one made outside the lease it names
 * (a lapsed holder's, a forged one), and one that names no lease (made
 * without workledger's hooks: the holder's own, or someone's who skipped
 * them). Twenty-third trials: a non-holder's merge, made with the hooks
 * skipped, was checkpointed by the next holder unsaid, and its gutted test
 * passed. Warnings, as the worktree's are: the holder vouches for what it
 * checkpoints, and a revert leaves such a commit in the history.
 */
async function othersCommits(ledger: LedgerApi, dir: string, range: string): Promise<string[]> {
  const { refused, unmarked: loose } = await unvouched(ledger, dir, range);
  const named = (list: CheckedCommit[]) => `${list[0]!.commit.slice(0, 12)} "${list[0]!.subject}"${list.length > 1 ? ", …" : ""}`;
  const undo = `if that is not what you meant to build on, git log ${range} shows them: revert them, or reset to ${range.split("..")[0]!.slice(0, 12)}, and checkpoint again`;
  return [
    ...(refused.length ? [`recorded as yours: ${refused.length} commit(s) since the last checkpoint made outside the lease they name (${named(refused)}); ${undo}`] : []),
    ...(loose.length
      ? [`recorded as yours: ${loose.length} commit(s) since the last checkpoint that name no lease (${named(loose)}), made without workledger's git hooks; ${undo}`]
      : []),
  ];
}

/** Whether `commit` is already on `branch` (a worktree not yet moved past its base has no work to record). */
const isIn = (dir: string, commit: string, branch: string) => git(dir, ["merge-base", "--is-ancestor", commit, branch]) !== null;

/** The work tree to checkpoint: `dir` when it has the WO's branch checked out, else the caller's attempt's worktree. */
function workTreeOf(held: Held, dir: string): string {
  const own = worktreePath(mainWorkTree(dir), held);
  // An earlier lease's worktree of this WO: its changes are not this lease's to commit (fourteenth trials: silently left behind),
  // on the branch or not, as verify refuses to run there (thirty-fourth trials: checkpoint took it, verify refused it).
  const tag = worktreeTag(dir);
  if (tag !== null && tag.project === held.project && tag.id === held.id && tag.token !== held.lease.token)
    throw new LedgerError(
      "VALIDATION",
      `${dir} is the worktree of your earlier lease ${tag.token} on WO-${held.id}; you hold it under lease ${held.lease.token} now, and nothing was committed`,
      {
        hint: `carry the changes to this lease's worktree (git stash here, then git stash pop in ${own}; {{op:worktree}} {{id=${held.id}}} makes it), then checkpoint there`,
        details: { issues: [{ field: "dir", message: `lease ${tag.token}'s worktree` }], worktree: own },
      },
    );
  if (git(dir, ["symbolic-ref", "--quiet", "--short", "HEAD"]) === held.branch) return gitOrFail(dir, ["rev-parse", "--show-toplevel"], "find the work tree");
  const ownBranch = existsSync(own) ? (git(own, ["symbolic-ref", "--quiet", "--short", "HEAD"]) ?? "detached") : null;
  if (ownBranch === held.branch) return own;
  // It exists but is not on the branch (twenty-first trials: a detached one was said not to exist).
  if (ownBranch !== null)
    throw new LedgerError(
      "VALIDATION",
      `${dir} (where this ran) does not have ${held.branch} checked out, nor does your worktree for WO-${held.id} (${own}: ${ownBranch === "detached" ? "its HEAD is detached" : `on ${ownBranch}`}); nothing was committed`,
      {
        hint: `git switch ${held.branch} in ${own}, then checkpoint there`,
        details: { issues: [{ field: "dir", message: `not on ${held.branch}` }], branch: held.branch, worktree: own },
      },
    );
  throw new LedgerError(
    "VALIDATION",
    `${dir} (where this ran) does not have ${held.branch} checked out, and your worktree for WO-${held.id} does not exist; nothing was committed`,
    {
      hint: `{{op:worktree}} {{id=${held.id}}} makes your worktree on ${held.branch}: work there, then checkpoint`,
      details: { issues: [{ field: "dir", message: `not on ${held.branch}` }], branch: held.branch },
    },
  );
}

/** git's configured identity, or where there is none the agent's (a checkpoint must not fail for want of user.email). */
function withIdentity(dir: string, agent: string): NodeJS.ProcessEnv {
  const name = git(dir, ["config", "user.name"]) ?? agent;
  const email = git(dir, ["config", "user.email"]) ?? `${agent.replace(/[^A-Za-z0-9._-]/g, "-")}@workledger.invalid`;
  const e = process.env;
  return {
    ...e,
    GIT_AUTHOR_NAME: e.GIT_AUTHOR_NAME ?? name,
    GIT_AUTHOR_EMAIL: e.GIT_AUTHOR_EMAIL ?? email,
    GIT_COMMITTER_NAME: e.GIT_COMMITTER_NAME ?? name,
    GIT_COMMITTER_EMAIL: e.GIT_COMMITTER_EMAIL ?? email,
  };
}
