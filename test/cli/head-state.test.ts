/**
 * The CLI reads HEAD and branch from the repository's files for commands that
 * only judge context by them (claim, get, context-pull), so they start no git
 * process (issue 27): it must agree with git in every layout it reads.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gitState, headState } from "../../src/doors/cli/input.ts";

describe("headState reads what git would say, without running it", () => {
  const root = mkdtempSync(join(tmpdir(), "wl-head-"));
  const repo = join(root, "repo");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=a@b.invalid", "-c", "user.name=a", ...args], { cwd: repo, stdio: "pipe" });
  after(() => rmSync(root, { recursive: true, force: true }));
  /** What freshness compares: HEAD and branch (headState does not look at dirtiness). */
  const agree = (dir: string, what: string) => {
    const git = gitState(dir);
    assert.deepEqual(headState(dir), git && { ...git, dirty: false }, what);
  };

  it("outside a repository, on a branch, packed, in a linked worktree, detached, and on an unborn branch", () => {
    agree(root, "outside any repository: null");
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    agree(repo, "unborn branch: null, as git says");
    git("commit", "-q", "--allow-empty", "-m", "first");
    agree(repo, "a loose ref");
    git("pack-refs", "--all");
    agree(repo, "a packed ref");
    git("worktree", "add", "-q", "-b", "wo/1-x", `${repo}.worktrees/wo-1`);
    agree(`${repo}.worktrees/wo-1`, "a linked worktree on its own branch");
    git("checkout", "-q", "--detach");
    agree(repo, "a detached HEAD");
    assert.notEqual(headState(repo), null);
  });
});
