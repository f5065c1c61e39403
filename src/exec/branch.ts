/**
 * `workledger branch`: makes sure a WO's branch exists in a git repository
 * (issue 26), created from the repository's default branch when it does not,
 * without checking anything out: the caller's work tree is left as it is.
 */
import { execFileSync } from "node:child_process";
import { LedgerError } from "../core/errors.js";

export interface BranchResult {
  branch: string;
  /** The repository it was looked for in, and whether it had to be created (then from `base`). */
  dir: string;
  created: boolean;
  base: string | null;
}

const git = (dir: string, args: string[]): string | null => {
  try {
    return execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
};

/** The default branch: the remote's HEAD, else init.defaultBranch, main or master if it exists here, else HEAD. */
function defaultBranch(dir: string): string {
  const remote = git(dir, ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]);
  if (remote) return remote;
  const configured = git(dir, ["config", "--get", "init.defaultBranch"]);
  for (const b of [configured, "main", "master"]) if (b && git(dir, ["rev-parse", "--verify", "--quiet", `refs/heads/${b}`]) !== null) return b;
  return "HEAD";
}

export function ensureBranch(dir: string, branch: string): BranchResult {
  const top = git(dir, ["rev-parse", "--show-toplevel"]);
  if (top === null)
    throw new LedgerError("VALIDATION", `dir: ${dir} is not in a git repository`, {
      hint: "run it in the repository the work order is about, or give its path ({{dir=PATH}})",
      details: { issues: [{ field: "dir", message: "not a git repository" }] },
    });
  if (git(top, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`]) !== null) return { branch, dir: top, created: false, base: null };
  const base = defaultBranch(top);
  if (git(top, ["branch", "--no-track", branch, base]) === null)
    throw new LedgerError("UNAVAILABLE", `git could not create branch ${branch} from ${base} in ${top}`, {
      hint: "check that the repository has a commit and that the branch name is free",
      details: { branch, base, dir: top },
    });
  return { branch, dir: top, created: true, base };
}
