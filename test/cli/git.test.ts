/** `workledger branch` in a scratch repository (issue 26): created from the default branch, nothing checked out, idempotent. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";

describe("CLI: a branch per work order (issue 26)", () => {
  let s: Sandbox;
  let repo: string;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
  const env = { WORKLEDGER_AGENT: "alice", WORKLEDGER_PROJECT: "gitty" };

  before(() => {
    s = sandbox();
    repo = join(s.dir, "repo");
    mkdirSync(repo);
    git("init", "-q", "-b", "main");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "on main");
    git("checkout", "-q", "-b", "feature");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "on feature");
    assert.equal(s.run(["create", "--title", "Fix tokenizer crash", "--new-project"], { env }).code, 0);
  });
  after(() => s.cleanup());

  it("prints the branch, creating it from the default branch (not the one checked out), and leaves the work tree alone", () => {
    const r = s.run(["branch", "--id", "1", "--json"], { env, cwd: join(repo) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { project: "gitty", id: 1, branch: "wo/1-fix-tokenizer-crash", dir: repo, created: true, base: "main" });
    assert.equal(git("rev-parse", "wo/1-fix-tokenizer-crash"), git("rev-parse", "main"));
    assert.equal(git("branch", "--show-current"), "feature");
    const again = s.run(["branch", "--id", "1"], { env, cwd: repo });
    assert.equal(again.stdout.trim(), "wo/1-fix-tokenizer-crash");
    assert.equal(s.run(["branch", "--id", "1", "--json"], { env, cwd: repo }).json.created, false);
  });

  it("outside a git repository it says so (exit 2), and --dir names the repository", () => {
    const out = s.run(["branch", "--id", "1", "--json"], { env, cwd: s.dir });
    assert.equal(out.code, 2);
    assert.match(out.json.error.message, /is not in a git repository/);
    assert.equal(s.run(["branch", "--id", "1", "--dir", repo, "--json"], { env, cwd: s.dir }).json.dir, repo);
  });
});
