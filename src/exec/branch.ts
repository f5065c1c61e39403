/**
 * `workledger branch`: makes sure a WO's branch exists in a git repository
 * (issue 26), created from the repository's default branch when it does not,
 * without checking anything out: the caller's work tree is left as it is.
 */
import { LedgerError } from "../core/errors.js";
import { asAgent, git, gitOrFail, mainWorkTree, redirected, redirectOf } from "./git.js";

export interface BranchResult {
  branch: string;
  /** The repository it was looked for in, and whether it had to be created (then from `base`). */
  dir: string;
  created: boolean;
  base: string | null;
}

/** The default branch: the remote's HEAD, else init.defaultBranch, main or master if it exists here, else HEAD. */
export function defaultBranch(dir: string): string {
  const remote = git(dir, ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]);
  if (remote) return remote;
  const configured = git(dir, ["config", "--get", "init.defaultBranch"]);
  for (const b of [configured, "main", "master"]) if (b && git(dir, ["rev-parse", "--verify", "--quiet", `refs/heads/${b}`]) !== null) return b;
  return "HEAD";
}

/**
 * The WO's branch, created from the default branch when it does not exist;
 * `refusal`: why the caller may not create it (core/commits.ts
 * judgeBranchMove: while another agent holds the WO), said instead. `agent`:
 * who asks.
 */
export function ensureBranch(dir: string, branch: string, agent?: string, refusal: string | null = null): BranchResult {
  const top = mainWorkTree(dir);
  const target = redirectOf(top, branch);
  if (target !== null) throw redirected(branch, target, "nothing was changed");
  if (git(top, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]) !== null) return { branch, dir: top, created: false, base: null };
  const base = defaultBranch(top);
  // workledger's git runs no hook (git.ts SAFE), so the fence's rule is applied here: a lease's refusal, not git being unavailable.
  if (refusal !== null)
    throw new LedgerError("LEASE_HELD", `${refusal}: ${branch} was not created`, {
      hint: "only the work order's holder creates its branch while it is held; claim it when it is free",
      details: { branch, base, dir: top },
    });
  gitOrFail(top, ["branch", "--no-track", branch, base], `create branch ${branch} from ${base}`, asAgent(agent));
  return { branch, dir: top, created: true, base };
}
