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

/** `agent`: who asks (the branch fence lets the holder, or anyone while nobody holds the WO, create it). */
export function ensureBranch(dir: string, branch: string, agent?: string): BranchResult {
  const top = mainWorkTree(dir);
  const target = redirectOf(top, branch);
  if (target !== null) throw redirected(branch, target, "nothing was changed");
  if (git(top, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]) !== null) return { branch, dir: top, created: false, base: null };
  const base = defaultBranch(top);
  try {
    gitOrFail(top, ["branch", "--no-track", branch, base], `create branch ${branch} from ${base}`, asAgent(agent));
  } catch (e) {
    // The branch fence said no (another agent holds the WO): a lease's refusal, not git being unavailable (twenty-sixth trials).
    const refused = /workledger: branch update refused: ([^;]*)/.exec(e instanceof Error ? e.message : "");
    if (refused)
      throw new LedgerError("LEASE_HELD", `${refused[1]!.trim()}: ${branch} was not created`, {
        hint: "only the work order's holder creates its branch while it is held; claim it when it is free",
        details: { branch, base, dir: top },
      });
    throw new LedgerError("UNAVAILABLE", `git could not create branch ${branch} from ${base} in ${top}`, {
      hint: "check that the repository has a commit and that the branch name is free",
      details: { branch, base, dir: top },
    });
  }
  return { branch, dir: top, created: true, base };
}
