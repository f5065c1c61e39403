/** `workledger branch` in a scratch repository (issue 26): created from the default branch, nothing checked out, idempotent. */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { sleep, until } from "../helpers/util.ts";
import { connectMcp } from "../helpers/mcp.ts";

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

  it("a relative core.hooksPath (husky's) is refused by git-hooks install and named by worktree: git would look for the hooks in each worktree (thirty-first trials)", () => {
    // Hooks committed in the tree: workledger's own git never runs them (thirty-second MCP trial: another agent's, checked out
    // in the next holder's worktree, ran as that holder in workledger's status, reset and update-ref).
    const ran = join(s.dir, "committed-hook-ran");
    mkdirSync(join(repo, ".husky"));
    for (const hook of ["reference-transaction", "post-checkout", "post-index-change"])
      writeFileSync(join(repo, ".husky", hook), `#!/bin/sh\necho ${hook} >> ${ran}\n`, { mode: 0o755 });
    git("checkout", "-q", "main");
    git("add", ".husky");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "husky");
    git("config", "core.hooksPath", ".husky");
    rmSync(ran, { force: true });
    try {
      const refused = s.run(["git-hooks", "install", "--json"], { cwd: repo });
      assert.equal(refused.code, 2, refused.stdout);
      assert.match(refused.json.error.message, /^core\.hooksPath is relative \(\.husky\): .*nothing was installed/);
      assert.equal(refused.json.error.hint, `make it absolute (git config core.hooksPath '${join(repo, ".husky")}'), then run git-hooks install again`);
      assert.equal(s.run(["claim", "--id", "1"], { env }).code, 0);
      const opened = s.run(["worktree", "--id", "1"], { env, cwd: repo });
      assert.equal(opened.code, 0, opened.stderr);
      assert.match(opened.stderr, /core\.hooksPath is relative \(\.husky\): .*workledger's lease hooks do not run here/);
      const tree = opened.stdout.trim();
      writeFileSync(join(tree, "work.txt"), "w\n");
      const cp = s.run(["checkpoint", "--id", "1", "-m", "work"], { env, cwd: tree });
      assert.equal(cp.code, 0, cp.stderr);
      assert.equal(existsSync(ran), false, existsSync(ran) ? readFileSync(ran, "utf8") : "");
      git("config", "core.hooksPath", join(repo, ".husky"));
      const installed = s.run(["git-hooks", "install", "--json"], { cwd: repo });
      assert.equal(installed.code, 0, installed.stdout);
      assert.equal(installed.json.dir, join(repo, ".husky"));
    } finally {
      git("config", "--unset", "core.hooksPath");
    }
  });
});

describe("CLI: a worktree per attempt, checkpoints, and fencing to the merge (issue 26)", () => {
  let s: Sandbox;
  let repo: string;
  const alice = { WORKLEDGER_AGENT: "alice", WORKLEDGER_PROJECT: "gitty" };
  const bob = { WORKLEDGER_AGENT: "bob", WORKLEDGER_PROJECT: "gitty" };
  const id = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
  /** git as an agent runs it: its hooks run workledger with the agent's environment. */
  const gitIn = (cwd: string, agent: Record<string, string>, ...args: string[]) =>
    spawnSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...s.env, ...id, ...agent } });
  const git = (cwd: string, ...args: string[]) => {
    const r = gitIn(cwd, {}, ...args);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  /** alice's claim of `id` for a few seconds (room for a loaded machine's CLI calls under it); resolves once it has lapsed. */
  const lapsingClaim = (id: number): Promise<unknown> => {
    const claim = s.run(["claim", "--id", String(id), "--ttl", "4s", "--json"], { env: alice });
    assert.equal(claim.code, 0, claim.stderr);
    return sleep(Math.max(0, Date.parse(claim.json.lease.expires_at) - Date.now()) + 300);
  };
  /** A WO alice claimed, whose worktree holds `file` checkpointed: its id and worktree. */
  const checkpointed = (title: string, verification: string, file: string, content: string) => {
    const id = String(s.run(["create", "--title", title, "--verification", verification, "--json"], { env: alice }).json.id);
    assert.equal(s.run(["claim", "--id", id], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", id], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, file), content);
    assert.equal(s.run(["checkpoint", "--id", id, "-m", `${file}: ${content.trim()}`], { env: alice, cwd: tree }).code, 0);
    return { id, tree };
  };

  before(() => {
    s = sandbox();
    repo = join(s.dir, "repo");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "README"), "hello\n");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "start");
    const wo = s.run(["create", "--title", "Add greeting", "--verification", "grep -q hi greeting.txt && test -f notes.txt", "--new-project"], { env: alice });
    assert.equal(wo.code, 0, wo.stderr);
  });
  after(() => s.cleanup());

  it("takeover: the second holder's worktree starts from the first's checkpoint; the first's late commit is refused by the hook and flagged by check-commits; nothing uncommitted is deleted", async () => {
    // An earlier version's post-commit hook (reference-transaction records commits now) is removed; someone else's stays.
    writeFileSync(join(repo, ".git", "hooks", "post-commit"), "#!/bin/sh\n# installed by workledger git-hooks install\nexit 0\n");
    const hooks = s.run(["git-hooks", "install", "--json"], { cwd: repo });
    assert.equal(hooks.code, 0, hooks.stderr);
    assert.deepEqual(
      hooks.json.installed.map((h: string) => basename(h)),
      ["prepare-commit-msg", "commit-msg", "reference-transaction"],
    );
    assert.equal(existsSync(join(repo, ".git", "hooks", "post-commit")), false);

    // Alice claims with a short lease, works in her worktree, checkpoints, commits once in time, and stalls.
    assert.equal(s.run(["claim", "--id", "1", "--ttl", "15s"], { env: alice }).code, 0); // long enough for the steps below (three hooks a commit) on a busy machine
    const wa = s.run(["worktree", "--id", "1"], { env: alice, cwd: repo });
    assert.equal(wa.code, 0, wa.stderr);
    const aliceTree = wa.stdout.trim();
    assert.equal(aliceTree, join(s.dir, "repo.worktrees", "gitty", "wo-1-lease-1"));
    assert.equal(git(aliceTree, "branch", "--show-current"), "wo/1-add-greeting");
    assert.equal(s.run(["worktree", "--id", "1"], { env: alice, cwd: aliceTree }).stdout.trim(), aliceTree, "asked again: the same worktree");
    writeFileSync(join(aliceTree, "greeting.txt"), "hi\n"); // untracked: a checkpoint takes it too
    const cp = s.run(["checkpoint", "--id", "1", "-m", "greeting drafted", "--json"], { env: alice, cwd: aliceTree });
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(cp.json.files, 1);
    assert.equal(git(aliceTree, "rev-parse", "HEAD"), cp.json.checkpoint.commit);
    assert.equal(git(aliceTree, "status", "--porcelain"), "", "the checkpoint leaves the work tree clean");
    assert.match(git(aliceTree, "log", "-1", "--format=%B"), /greeting drafted\n\nWork-Order: gitty#1\nLease-Token: 1/);
    // Only the holder commits under its lease, in its worktree or anywhere (ninth trials).
    writeFileSync(join(aliceTree, "intruder.txt"), "x\n");
    git(aliceTree, "add", "intruder.txt");
    const intruder = gitIn(aliceTree, bob, "commit", "-q", "-m", "not mine");
    assert.notEqual(intruder.status, 0);
    assert.match(intruder.stderr, /WO-1 is alice's under lease 1: bob may not commit under it/);
    git(aliceTree, "reset", "-q", "intruder.txt");
    rmSync(join(aliceTree, "intruder.txt"));
    writeFileSync(join(aliceTree, "draft.txt"), "unfinished\n"); // never committed: must survive everything below
    assert.ok(await until(() => s.run(["get", "--id", "1", "--json"], { env: alice }).json.status === "open", 30_000), "alice's lease lapses");
    // Git dates commits in whole seconds: one made in the second the lease ended is judged in its favour; be past it.
    await sleep(1100);

    // Alice's later commit: refused by the commit-msg hook, naming who holds the WO now; with every hook skipped it lands.
    assert.equal(s.run(["claim", "--id", "1"], { env: bob }).code, 0);
    writeFileSync(join(aliceTree, "late.txt"), "late\n");
    git(aliceTree, "add", "late.txt");
    const refused = gitIn(aliceTree, alice, "commit", "-q", "-m", "late work");
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /commit refused: .*after alice's lease 1 on WO-1 ended .*bob holds it now \(lease 2\)/);
    // --no-verify skips the commit hooks, not the branch fence; only skipping every hook lands it (her lease's trailers written by hand).
    assert.match(
      gitIn(aliceTree, alice, "commit", "-q", "--no-verify", "-m", "late work").stderr,
      /branch update refused: .*bob holds it \(lease 2\): only its holder moves it, not alice/,
    );
    assert.equal(
      gitIn(aliceTree, alice, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "late work, hook skipped", "--trailer", "Work-Order: gitty#1", "--trailer", "Lease-Token: 1")
        .status,
      0,
    );
    const late = git(aliceTree, "rev-parse", "HEAD");
    assert.equal(s.run(["checkpoint", "--id", "1", "-m", "x"], { env: alice, cwd: aliceTree }).code, 5, "a lapsed holder cannot checkpoint");

    // Bob's worktree holds alice's checkpoint; he finishes and verifies there.
    const wb = s.run(["worktree", "--id", "1", "--json"], { env: bob, cwd: repo });
    assert.equal(wb.code, 0, wb.stderr);
    const bobTree = wb.json.path as string;
    assert.equal(wb.json.checkpoint.commit, cp.json.checkpoint.commit);
    // The branch also holds alice's late commit: bob is told before he builds on it (ninth trials).
    assert.match(wb.json.warnings?.[0] ?? "", new RegExp(`holds 1 commit\\(s\\) made outside the lease they name \\(${late.slice(0, 12)} "late work, hook skipped"`));
    assert.equal(readFileSync(join(bobTree, "greeting.txt"), "utf8"), "hi\n");
    writeFileSync(join(bobTree, "notes.txt"), "done\n");
    assert.equal(s.run(["checkpoint", "--id", "1", "-m", "notes added"], { env: bob, cwd: bobTree }).code, 0);
    // A commit bob makes himself is recorded as a checkpoint by the reference-transaction hook (tenth MCP trial, sixteenth trials).
    writeFileSync(join(bobTree, "own.txt"), "committed by hand\n");
    git(bobTree, "add", "own.txt");
    assert.equal(gitIn(bobTree, bob, "commit", "-q", "-m", "bob's own commit").status, 0);
    const newest = s.run(["get", "--id", "1", "--json"], { env: bob }).json.checkpoints.at(-1);
    assert.deepEqual([newest.commit, newest.agent, newest.token, newest.message], [git(bobTree, "rev-parse", "HEAD"), "bob", 2, "bob's own commit"]);
    assert.equal(s.run(["checkpoint", "--id", "1", "-m", "again", "--json"], { env: bob, cwd: bobTree }).json.nothing, true, "recorded once");
    const verified = s.run(["verify", "--id", "1", "--json"], { env: bob, cwd: bobTree });
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.json.dir, bobTree, "verify ran in the worktree");
    assert.equal(verified.json.git.branch, "wo/1-add-greeting");
    assert.equal(s.run(["release", "--id", "1", "--status", "done"], { env: bob, cwd: bobTree }).code, 0);
    // Done, the branch takes no more commits, and the refusal says where the rest goes instead of "claim it again" (tenth trials).
    const afterDone = gitIn(aliceTree, alice, "commit", "-q", "--allow-empty", "-m", "after done");
    assert.notEqual(afterDone.status, 0);
    assert.match(afterDone.stderr, /WO-1 is done: nobody commits to its branch any more; carry what is left to a new work order/);

    // check-commits over the branch flags exactly the commit made after alice's lease ended.
    const check = s.run(["check-commits", "main..wo/1-add-greeting", "--json"], { cwd: repo });
    assert.equal(check.code, 5, check.stderr);
    assert.deepEqual(
      check.json.commits.filter((x: { verdict: { ok: boolean } }) => !x.verdict.ok).map((x: { commit: string }) => x.commit),
      [late],
    );
    assert.equal(check.json.ok, check.json.commits.length - 1);
    const get = s.run(["get", "--id", "1", "--json"], { env: alice }).json;
    assert.deepEqual(
      get.checkpoints.map((x: { agent: string; token: number }) => [x.agent, x.token]),
      [
        ["alice", 1],
        ["bob", 2],
        ["bob", 2],
      ],
    );

    // Nothing uncommitted was deleted; prune removes only the finished, clean worktree, and says why it kept alice's.
    assert.equal(readFileSync(join(aliceTree, "draft.txt"), "utf8"), "unfinished\n");
    // Each agent prunes its own (twenty-seventh trials: another agent's prune took what git ignores in them too).
    const nobody = s.run(["worktree", "--prune", "--json"], { cwd: repo });
    assert.deepEqual(nobody.json.removed, []);
    // With an id, only that WO's (thirty-fourth trials: --id was ignored).
    assert.equal(s.run(["worktree", "--prune", "--id", "99", "--json"], { env: bob, cwd: repo }).code, 4, "no such work order");
    const pruned = s.run(["worktree", "--prune", "--json"], { env: bob, cwd: repo });
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.deepEqual(pruned.json.removed, [bobTree]);
    assert.deepEqual(pruned.json.kept, [{ path: aliceTree, reason: "it was made for alice's lease: only alice (or an admin) prunes it" }]);
    // Her draft: kept (her tree was detached when bob's was made, so bob's commits are not changes of hers).
    const hers = s.run(["worktree", "--prune", "--json"], { env: alice, cwd: repo });
    assert.deepEqual(hers.json.kept, [{ path: aliceTree, reason: "it holds 1 uncommitted change(s)" }], git(aliceTree, "status", "--porcelain"));
    assert.equal(readFileSync(join(aliceTree, "draft.txt"), "utf8"), "unfinished\n");
  });

  it("a late commit that names no lease (hooks skipped) is named when the next holder's worktree is made (twelfth trials)", async () => {
    const id = s.run(["create", "--title", "Loose commit", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id), "--ttl", "8s"], { env: alice }).code, 0); // room for the hooks on a busy machine
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "z.txt"), "1\n");
    const one = s.run(["checkpoint", "--id", String(id), "-m", "one"], { env: alice, cwd: tree });
    assert.equal(one.code, 0, one.stderr);
    assert.ok(await until(() => s.run(["get", "--id", String(id), "--json"], { env: alice }).json.status === "open", 20_000), "the lease lapses");
    writeFileSync(join(tree, "z.txt"), "rm -rf /\n");
    assert.equal(gitIn(tree, alice, "-c", "core.hooksPath=/dev/null", "commit", "-qam", "sneaky late commit").status, 0);
    const taken = s.run(["claim", "--id", String(id)], { env: bob });
    assert.equal(taken.code, 0, taken.stderr);
    const wb = s.run(["worktree", "--id", String(id), "--json"], { env: bob, cwd: repo });
    assert.equal(wb.code, 0, wb.stderr);
    assert.match(
      (wb.json.warnings ?? []).join("\n"),
      /holds 1 commit\(s\) after \w{12} that name no lease \(\w{12} "sneaky late commit", made without workledger.s git hooks: not installed, skipped, or outside its worktrees\)/,
    );
  });

  it("changes hidden from git status (skip-worktree, assume-unchanged) make a pass dirty: it answers no failure (nineteenth trials)", () => {
    const carol = { WORKLEDGER_AGENT: "carol", WORKLEDGER_PROJECT: "gitty" };
    const id = String(s.run(["create", "--title", "Hidden change", "--verification", "grep -q fixed f.txt", "--json"], { env: carol }).json.id);
    assert.equal(s.run(["claim", "--id", id], { env: carol }).code, 0);
    const tree = s.run(["worktree", "--id", id], { env: carol, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "f.txt"), "broken\n");
    assert.equal(s.run(["checkpoint", "--id", id, "-m", "broken"], { env: carol, cwd: tree }).code, 0);
    assert.equal(s.run(["verify", "--id", id], { env: carol, cwd: tree }).code, 6);
    git(tree, "update-index", "--skip-worktree", "f.txt");
    writeFileSync(join(tree, "f.txt"), "fixed\n");
    assert.equal(git(tree, "status", "--porcelain"), "", "git status shows nothing");
    const pass = s.run(["verify", "--id", id, "--json"], { env: carol, cwd: tree });
    assert.deepEqual([pass.code, pass.json.passed, pass.json.git.dirty], [0, true, true]);
    const done = s.run(["release", "--id", id, "--status", "done"], { env: carol, cwd: tree });
    assert.equal(done.code, 6, done.stderr);
    assert.match(done.stderr, /ran on uncommitted changes/);
    // Context saved over it is saved with uncommitted changes, and a checkpoint does not leave it out silently (twenty-first MCP trial).
    const put = s.run(["context-put", "--id", id, "--key", "handover", "-m", "fixed", "--json"], { env: carol, cwd: tree });
    assert.equal(put.json.git.dirty, true, put.stdout);
    const cp = s.run(["checkpoint", "--id", id, "-m", "fixed", "--json"], { env: carol, cwd: tree });
    assert.match(cp.json.error.message, /1 changed file\(s\) are hidden from git \(skip-worktree or assume-unchanged\): "f.txt"; nothing was committed/);
    assert.match(cp.json.error.hint, /git update-index --no-skip-worktree --no-assume-unchanged -- "f.txt"/);
  });

  it("a commit made while verify runs makes its pass one on uncommitted changes: it ran on what HEAD named before (twenty-second MCP trial)", async () => {
    // Room for a loaded machine to start the command before the commit (its sandbox cannot signal that it has).
    const { id, tree } = checkpointed("Moves during verify", "grep -q good g.txt && sleep 6", "g.txt", "good\n");
    const running = s.spawn(["verify", "--id", id, "--dir", tree, "--json"], { env: alice });
    await sleep(3000);
    writeFileSync(join(tree, "g.txt"), "bad\n");
    assert.equal(gitIn(tree, alice, "commit", "-qam", "bad, during verify").status, 0);
    const v = await running;
    assert.deepEqual([v.json.passed, v.json.git.head, v.json.git.dirty], [true, git(tree, "rev-parse", "HEAD"), true], v.stdout);
    const done = s.run(["release", "--id", id, "--status", "done", "--json"], { env: alice, cwd: tree });
    assert.equal(done.code, 6, done.stdout);
    // Said as what happened, not as "dirty" or "uncommitted changes" (twenty-fourth MCP trial).
    assert.match(v.json.note.body, /\(wo\/\d+-moves-during-verify, HEAD moved while it ran\)/);
  });

  it("verify asks git about the directory it runs in, whatever GIT_DIR and GIT_WORK_TREE say (twenty-second trials)", () => {
    const { id, tree } = checkpointed("Elsewhere", "test -f ok.txt", "e.txt", "work, no ok.txt\n");
    const fake = join(s.dir, "fake");
    mkdirSync(fake);
    writeFileSync(join(fake, "ok.txt"), "ok\n");
    const elsewhere = { ...alice, GIT_DIR: git(tree, "rev-parse", "--absolute-git-dir"), GIT_WORK_TREE: tree };
    const v = s.run(["verify", "--id", id, "--dir", fake, "--json"], { env: elsewhere, cwd: fake });
    assert.deepEqual([v.json.passed, v.json.git], [true, null], v.stdout);
    const done = s.run(["release", "--id", id, "--status", "done", "--json"], { env: alice, cwd: tree });
    assert.equal(done.code, 6, done.stdout);
    assert.match(done.json.error.message, /outside any git work tree/);
  });

  it("git replace does not make replaced work read clean: workledger reads commits as they are (twenty-first MCP trial)", () => {
    const { id, tree } = checkpointed("Replaced", "grep -q fixed r.txt", "r.txt", "broken\n");
    const broken = git(tree, "rev-parse", "HEAD");
    git(tree, "checkout", "-q", "--detach");
    writeFileSync(join(tree, "r.txt"), "fixed\n");
    git(tree, "commit", "-qam", "good");
    const good = git(tree, "rev-parse", "HEAD");
    git(tree, "checkout", "-q", `wo/${id}-replaced`);
    // Without the hooks (they refuse git replace but to an admin's shell).
    assert.equal(gitIn(tree, alice, "-c", "core.hooksPath=/dev/null", "replace", broken, good).status, 0);
    git(tree, "reset", "-q", "--hard");
    const pass = s.run(["verify", "--id", id, "--json"], { env: alice, cwd: tree });
    assert.deepEqual([pass.json.passed, pass.json.git.head, pass.json.git.dirty], [true, broken, true], pass.stdout);
    const done = s.run(["release", "--id", id, "--status", "done"], { env: alice, cwd: tree });
    assert.equal(done.code, 6, done.stderr);
    assert.match(done.stderr, /uncommitted changes/);
    git(repo, "replace", "-d", broken);
  });

  it("context read in an unrelated repository says it was saved in another one, not that the repository moved (seventeenth trials)", () => {
    git(repo, "commit", "-q", "--allow-empty", "-m", "a commit to reset to");
    const erin = { WORKLEDGER_AGENT: "erin", WORKLEDGER_PROJECT: "gitty" }; // holds nothing, lapsed nowhere: may save project-wide context
    const put = s.run(["context-put", "--key", "elsewhere", "-m", "main as it is"], { env: erin, cwd: repo });
    assert.equal(put.code, 0, put.stderr);
    const unrelated = join(s.dir, "unrelated");
    mkdirSync(unrelated);
    git(unrelated, "init", "-q", "-b", "main");
    git(unrelated, "commit", "-q", "--allow-empty", "-m", "another history");
    const reasons = (cwd: string) => s.run(["context-pull", "--key", "elsewhere", "--json"], { env: bob, cwd }).json.entries[0].stale_reasons.join("\n");
    assert.match(reasons(unrelated), /^saved in another repository \(its HEAD \w{12} is not in this one\): whether it moved cannot be judged here/);
    // On another branch there too (twenty-second trials: it read fresh).
    git(unrelated, "checkout", "-q", "-b", "feat");
    assert.match(reasons(unrelated), /^saved in another repository \(its HEAD \w{12} is not in this one\)/);
    git(unrelated, "checkout", "-q", "main");
    const saved = git(repo, "rev-parse", "HEAD");
    git(repo, "commit", "-q", "--allow-empty", "-m", "main moves on");
    assert.match(reasons(repo), /^repository moved since: HEAD was \w{12}, now \w{12}$/);
    // Reset behind where it was saved: stale from a checkout on another branch too (eighteenth trials: it read fresh).
    const side = join(s.dir, "side");
    git(repo, "worktree", "add", "-q", "-b", "side", side);
    git(repo, "reset", "-q", "--hard", `${saved}~1`);
    assert.match(reasons(side), new RegExp(`its branch main was reset or rewritten since: HEAD was ${saved.slice(0, 12)}, now \\w{12}`));
  });

  it("a plain commit on a WO's branch after its handover makes the handover stale from the main checkout too; a clone that is behind does not (twelfth trials)", async () => {
    const id = s.run(["create", "--title", "Plain commit", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "p.txt"), "1\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "one"], { env: alice, cwd: tree }).code, 0);
    assert.equal(s.run(["context-put", "--id", String(id), "--key", "handover", "-m", "p.txt written, nothing else"], { env: alice, cwd: tree }).code, 0);
    // Saved from the main checkout, it is stamped with the holder's worktree for the WO, where the work is (fourteenth trials).
    const fromMain = s.run(["context-put", "--id", String(id), "--key", "notes", "-m", "from main", "--json"], { env: alice, cwd: repo });
    assert.match(fromMain.json.git.branch, /^wo\/\d+-plain-commit$/);
    const linked = () => s.run(["get", "--id", String(id), "--json"], { env: bob, cwd: repo }).json.context.linked;
    const linkedAll = () => s.run(["get", "--id", String(id), "--json"], { env: bob, cwd: repo }).json.context.also_linked;
    assert.equal(linked().verdict, "fresh", "read from main, the branch is where the handover left it");
    writeFileSync(join(tree, "p.txt"), "2\n");
    assert.equal(gitIn(tree, alice, "-c", "core.hooksPath=/dev/null", "commit", "-qam", "more, no checkpoint").status, 0);
    const after = linked();
    assert.equal(after.verdict, "stale");
    assert.match(after.stale_reasons.join("\n"), /its branch wo\/\d+-plain-commit moved since: HEAD was \w{12}, now \w{12}/);
    const pulled = s.run(["context-pull", "--key", "handover", "--json"], { env: bob, cwd: repo }).json;
    assert.equal(pulled.verdict, "stale", "context-pull agrees with get");
    // Saved with uncommitted changes, it says so at once and reads as stale.
    writeFileSync(join(tree, "q.txt"), "draft\n");
    const dirty = s.run(["context-put", "--id", String(id), "--key", "draft", "-m", "q.txt drafted"], { env: alice, cwd: tree });
    assert.match(dirty.stderr, /warning: context draft was saved with uncommitted changes/);
    const draft = linkedAll().find((e: { key: string }) => e.key === "draft");
    assert.equal(draft.verdict, "stale");
    const m = await connectMcp(s, "bob", { WORKLEDGER_PROJECT: "gitty" }, repo);
    try {
      assert.equal((await m.call("get", { id })).body.context.linked.verdict, "stale", "over MCP too");
    } finally {
      await m.client.close();
    }
    // A clone whose branch is behind the handover has not seen the work move: nothing to say.
    const behind = join(s.dir, "behind");
    execFileSync("git", ["clone", "-q", repo, behind]);
    execFileSync("git", ["branch", "-q", "-f", after.git.branch, `${after.git.head}~1`], { cwd: behind });
    assert.equal(s.run(["get", "--id", String(id), "--json"], { env: bob, cwd: behind }).json.context.linked.verdict, "fresh");
  });

  it("a handover saved from the main checkout before the WO's worktree existed reads stale after a plain commit on the WO's branch (twentieth trials)", async () => {
    const id = s.run(["create", "--title", "Saved on main", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const put = s.run(["context-put", "--id", String(id), "--key", "handover", "-m", "plan: write m.txt", "--json"], { env: alice, cwd: repo });
    assert.equal(put.json.git.branch, "main", "no worktree yet: stamped with the main checkout");
    const linked = () => s.run(["get", "--id", String(id), "--json"], { env: bob, cwd: repo }).json.context.linked;
    assert.equal(linked().verdict, "fresh");
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    assert.equal(linked().verdict, "fresh", "the branch made at the default branch's tip holds no work yet");
    await sleep(1100); // git dates commits in whole seconds: one in the handover's second counts as after it
    writeFileSync(join(tree, "m.txt"), "m\n");
    git(tree, "add", "m.txt");
    assert.equal(gitIn(tree, alice, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "m, no checkpoint").status, 0);
    const tip = git(tree, "rev-parse", "HEAD");
    const after = linked();
    assert.equal(after.verdict, "stale");
    assert.match(after.stale_reasons.join("\n"), new RegExp(`its work order's branch wo/${id}-saved-on-main has a commit made after it was written \\(${tip.slice(0, 12)} at `));
    const pulled = s.run(["context-pull", "--id", String(id), "--json"], { env: bob, cwd: repo }).json;
    assert.equal(pulled.entries[0].verdict, "stale", "context-pull agrees with get");
    const m = await connectMcp(s, "bob", { WORKLEDGER_PROJECT: "gitty" }, repo);
    try {
      assert.equal((await m.call("get", { id })).body.context.linked.verdict, "stale", "over MCP too");
    } finally {
      await m.client.close();
    }
  });

  it("a detached worktree is named as such by checkpoint; a branch moved off its last checkpoint here is said to be reset, not unfetched (twenty-first trials)", () => {
    const id = s.run(["create", "--title", "Detached here", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "h.txt"), "h\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "h"], { env: alice, cwd: tree }).code, 0);
    git(tree, "checkout", "-q", "--detach");
    const cp = s.run(["checkpoint", "--id", String(id), "-m", "again", "--json"], { env: alice, cwd: repo });
    assert.match(cp.json.error.message, /nor does your worktree for WO-\d+ \(.*: its HEAD is detached\)/);
    assert.match(cp.json.error.hint, /^git switch wo\/\d+-detached-here in /);
    const branch = `wo/${id}-detached-here`;
    assert.equal(gitIn(repo, alice, "-c", "core.hooksPath=/dev/null", "update-ref", `refs/heads/${branch}`, git(repo, "rev-parse", "main")).status, 0);
    assert.equal(s.run(["release", "--id", String(id)], { env: alice }).code, 0);
    assert.equal(s.run(["claim", "--id", String(id)], { env: bob }).code, 0);
    const wb = s.run(["worktree", "--id", String(id), "--json"], { env: bob, cwd: repo });
    assert.match((wb.json.warnings ?? []).join("\n"), /is in this repository but not on wo\/\d+-detached-here: the branch was reset or rewritten since/);
  });

  it("context linked to a WO and saved off its branch, which holds checkpointed work, reads stale (twenty-second MCP trial)", () => {
    const id = String(s.run(["create", "--title", "Off its branch", "--json"], { env: alice }).json.id);
    assert.equal(s.run(["claim", "--id", id], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", id], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "z.txt"), "z\n");
    assert.equal(s.run(["checkpoint", "--id", id, "-m", "z"], { env: alice, cwd: tree }).code, 0);
    assert.equal(s.run(["release", "--id", id], { env: alice }).code, 0);
    assert.equal(s.run(["claim", "--id", id], { env: bob }).code, 0);
    // Bob has no worktree: saved from the main checkout, it describes main, not the work.
    const put = s.run(["context-put", "--id", id, "--key", "handover", "-m", "z.txt is not there", "--json"], { env: bob, cwd: repo });
    assert.equal(put.json.git.branch, "main");
    const e = s.run(["context-pull", "--id", id, "--json"], { env: bob, cwd: repo }).json.entries[0];
    assert.equal(e.verdict, "stale");
    assert.match(e.stale_reasons.join("\n"), new RegExp(`saved on main, not on its work order's branch wo/${id}-off-its-branch, which holds checkpointed work`));
    // Released, its holder's handover from the main checkout describes the branch's work: stamped there, it reads fresh until
    // the branch moves (thirty-fourth trials: SKILL.md's loop, release then context-put, saved it stale at once).
    writeFileSync(join(repo, "scratch.txt"), "uncommitted in the main checkout\n");
    assert.equal(s.run(["worktree", "--id", id], { env: bob, cwd: repo }).code, 0);
    assert.equal(s.run(["release", "--id", id], { env: bob, cwd: repo }).code, 0);
    const after = s.run(["context-put", "--id", id, "--key", "handover", "-m", "z.txt is on the branch", "--json"], { env: bob, cwd: repo });
    assert.deepEqual(after.json.git, { head: git(repo, "rev-parse", `wo/${id}-off-its-branch`), branch: `wo/${id}-off-its-branch`, dirty: false });
    const fresh = s.run(["context-pull", "--id", id, "--json"], { env: bob, cwd: repo }).json.entries[0];
    assert.deepEqual([fresh.body, fresh.verdict], ["z.txt is on the branch", "fresh"], JSON.stringify(fresh));
    rmSync(join(repo, "scratch.txt"));
  });

  it("a merge made with the hooks skipped is flagged by check-commits, named by the worktree, said by checkpoint, as is one that forges a lease (twenty-third trials)", () => {
    const id = String(s.run(["create", "--title", "Merged in", "--json"], { env: alice }).json.id);
    const branch = s.run(["branch", "--id", id, "--json"], { env: bob, cwd: repo }).json.branch as string;
    const side = git(repo, "commit-tree", `${git(repo, "rev-parse", "main")}^{tree}`, "-p", "main", "-m", "side work");
    const merge = git(repo, "commit-tree", `${git(repo, "rev-parse", "main")}^{tree}`, "-p", branch, "-p", side, "-m", "Merge side");
    assert.equal(gitIn(repo, bob, "-c", "core.hooksPath=/dev/null", "update-ref", `refs/heads/${branch}`, merge).status, 0);
    const check = s.run(["check-commits", `main..${branch}`, "--require-trailers", "--json"], { env: bob, cwd: repo });
    assert.equal(check.json.passed, false);
    assert.deepEqual(
      check.json.commits.map((c: { subject: string; trailers: string }) => [c.subject, c.trailers]),
      [
        ["side work", "none"],
        ["Merge side", "none"],
      ],
    );
    assert.equal(s.run(["claim", "--id", id], { env: alice }).code, 0);
    const wt = s.run(["worktree", "--id", id, "--json"], { env: alice, cwd: repo });
    assert.match(wt.json.warnings.join("\n"), /holds 2 commit\(s\) after main that name no lease \(\w{12} "side work"/);
    const cp = s.run(["checkpoint", "--id", id, "-m", "take over", "--json"], { env: alice, cwd: wt.json.path });
    assert.equal(cp.code, 0, cp.stdout);
    assert.match(cp.json.warnings.join("\n"), /recorded as yours: 2 commit\(s\) since the last checkpoint that name no lease \(\w{12} "side work", …\)/);
    // A commit naming a lease it was not made under is no holder's to take on.
    const forged = git(wt.json.path, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", `forged\n\nWork-Order: gitty#${id}\nLease-Token: 99`);
    git(wt.json.path, "-c", "core.hooksPath=/dev/null", "reset", "-q", "--hard", forged);
    const taken = s.run(["checkpoint", "--id", id, "-m", "again", "--json"], { env: alice, cwd: wt.json.path });
    assert.equal(taken.code, 0, taken.stdout);
    assert.match(
      taken.json.warnings.join("\n"),
      /recorded as yours: 1 commit\(s\) since the last checkpoint made outside the lease they name \(\w{12} "forged"\); .*revert them, or reset to/,
    );
    // Under the hooks, a merge's message gets its trailers once, after a blank line (twenty-third trials: twice, the first on the subject).
    const other = git(repo, "commit-tree", `${git(repo, "rev-parse", "main")}^{tree}`, "-p", "main", "-m", "more side work");
    git(repo, "branch", "more-side", other);
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0);
    const merged = gitIn(wt.json.path, alice, "merge", "--no-ff", "more-side");
    assert.equal(merged.status, 0, merged.stderr);
    assert.equal(git(wt.json.path, "log", "-1", "--format=%B"), `Merge branch 'more-side' into ${branch}\n\nWork-Order: gitty#${id}\nLease-Token: 1`);
  });

  it("done from the main checkout is judged by where the WO's branch is, moved by a non-holder or ahead of a pass on main (twenty-fourth trials)", () => {
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0);
    const sneak = (branch: string) => {
      const c = git(repo, "commit-tree", `${git(repo, "rev-parse", branch)}^{tree}`, "-p", branch, "-m", "bob's sneak");
      assert.equal(gitIn(repo, bob, "-c", "core.hooksPath=/dev/null", "update-ref", `refs/heads/${branch}`, c).status, 0);
    };
    // A project that requires verification (finishing unverified elsewhere only warns).
    const strict = { WORKLEDGER_PROJECT: "strict" };
    const [al, bo] = [
      { ...alice, ...strict },
      { ...bob, ...strict },
    ];
    const id = String(s.run(["create", "--title", "Moved under", "--verification", "true", "--new-project", "--json"], { env: al }).json.id);
    assert.equal(s.run(["project", "set", "strict", "--as-admin", "--require-verification", "on"], { env: al }).code, 0);
    // Checkpointed and verified, then moved under the holder: refused wherever the holder stands.
    assert.equal(s.run(["claim", "--id", id], { env: al }).code, 0);
    const tree = s.run(["worktree", "--id", id], { env: al, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "m.txt"), "mine\n");
    assert.equal(s.run(["checkpoint", "--id", id, "-m", "mine"], { env: al, cwd: tree }).code, 0);
    assert.equal(s.run(["verify", "--id", id], { env: al, cwd: tree }).code, 0);
    const branch = s.run(["get", "--id", id, "--json"], { env: al }).json.branch as string;
    sneak(branch);
    const fromMain = s.run(["release", "--id", id, "--status", "done"], { env: al, cwd: repo });
    assert.equal(fromMain.code, 6, fromMain.stderr);
    assert.match(fromMain.stderr, new RegExp(`its branch ${branch} is at \\w{12} now, not at \\w{12} where its verification passed`));
    // From outside git the branch cannot be looked at: finish where it can.
    const fromTmp = s.run(["release", "--id", id, "--status", "done"], { env: al, cwd: s.dir });
    assert.equal(fromTmp.code, 6, fromTmp.stderr);
    assert.match(fromTmp.stderr, /cannot be done from outside git: its work is on its branch .*\nhint: finish it from the repository or your worktree for it/);
    // No checkpoints: a pass on main, with the branch holding a commit main lacks, did not check it.
    const fresh = String(s.run(["create", "--title", "Ahead of main", "--verification", "true", "--json"], { env: al }).json.id);
    const ahead = s.run(["branch", "--id", fresh, "--json"], { env: bo, cwd: repo }).json.branch as string;
    sneak(ahead);
    assert.equal(s.run(["claim", "--id", fresh], { env: al }).code, 0);
    assert.equal(s.run(["verify", "--id", fresh, "--dir", repo], { env: al, cwd: repo }).code, 0);
    const onMain = s.run(["release", "--id", fresh, "--status", "done"], { env: al, cwd: repo });
    assert.equal(onMain.code, 6, onMain.stderr);
    // The project requires verification: a pass on main is not one on the WO's branch at all (twenty-fifth trials).
    assert.match(onMain.stderr, new RegExp(`passed on main in .*, not on its branch ${ahead}, and project strict requires a pass on it`));
  });

  it("worktree refuses a worktree at its path that it did not make for this lease (twenty-fourth MCP trial: a non-holder's, with planted files)", () => {
    const id = String(s.run(["create", "--title", "Planted tree", "--json"], { env: alice }).json.id);
    const branch = s.run(["branch", "--id", id, "--json"], { env: bob, cwd: repo }).json.branch as string;
    const path = join(`${repo}.worktrees`, "gitty", `wo-${id}-lease-1`);
    git(repo, "worktree", "add", "-q", "--force", path, branch);
    writeFileSync(join(path, "planted.txt"), "bob's\n");
    assert.equal(s.run(["claim", "--id", id], { env: alice }).code, 0);
    const wt = s.run(["worktree", "--id", id, "--json"], { env: alice, cwd: repo });
    assert.equal(wt.code, 2, wt.stdout);
    assert.match(wt.json.error.message, new RegExp(`is a worktree workledger did not make for your lease 1 on WO-${id}; nothing was changed`));
    assert.match(wt.json.error.hint, /git worktree remove --force/);
    git(repo, "worktree", "remove", "--force", path);
    const mine = s.run(["worktree", "--id", id, "--json"], { env: alice, cwd: repo });
    assert.equal(mine.code, 0, mine.stdout);
    assert.equal(existsSync(join(mine.json.path, "planted.txt")), false);
  });

  it("the holder's move is recorded while git prepares it, before the ref moves (twenty-fourth trials: a lease that ended meanwhile left it unrecorded)", () => {
    const { id, tree } = checkpointed("Prepared", "true", "p.txt", "one\n");
    const head = git(tree, "rev-parse", "HEAD");
    const next = git(tree, "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-m", "prepared move");
    const branch = s.run(["get", "--id", id, "--json"], { env: alice }).json.branch as string;
    // What git's reference-transaction hook gets at `prepared`; the ref has not moved.
    const r = s.run(["git-hook", "reference-transaction", "prepared"], { env: alice, cwd: tree, input: `${head} ${next} refs/heads/${branch}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(git(tree, "rev-parse", branch), head, "git has not moved it");
    assert.equal(s.run(["get", "--id", id, "--json"], { env: alice }).json.checkpoints.at(-1).commit, next, "recorded already");
  });

  it("a file deleted and hidden with skip-worktree makes a pass dirty; worktree --prune keeps such a worktree (twenty-third trials)", () => {
    const id = String(s.run(["create", "--title", "Hidden deletion", "--verification", "true", "--json"], { env: alice }).json.id);
    assert.equal(s.run(["claim", "--id", id], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", id], { env: alice, cwd: repo }).stdout.trim();
    git(tree, "update-index", "--skip-worktree", "README");
    rmSync(join(tree, "README"));
    assert.equal(git(tree, "status", "--porcelain"), "");
    const pass = s.run(["verify", "--id", id, "--json"], { env: alice, cwd: tree });
    assert.deepEqual([pass.code, pass.json.git.dirty], [0, true]);
    assert.equal(s.run(["update", "--id", id, "--status", "cancelled"], { env: alice }).code, 0);
    const pruned = s.run(["worktree", "--prune", "--json"], { env: alice, cwd: repo });
    assert.ok(
      pruned.json.kept.some((k: { path: string; reason: string }) => k.path === tree && /1 change\(s\) hidden from git status/.test(k.reason)),
      JSON.stringify(pruned.json),
    );
  });

  it("a branch made under a WO's name before the WO existed is not its work: worktree refuses it until it is deleted (twenty-second MCP trial)", async () => {
    const n = Number(s.run(["create", "--title", "Before the plant", "--json"], { env: alice }).json.id) + 1;
    const planted = git(repo, "commit-tree", `${git(repo, "rev-parse", "main")}^{tree}`, "-p", "main", "-m", "planted ahead");
    await sleep(1100); // the commit's date is not the branch's
    const madeAt = Math.floor(Date.now() / 1000) * 1000;
    git(repo, "branch", `wo/${n}-planted`, planted);
    await sleep(1100); // git dates the reflog in whole seconds
    const id = String(s.run(["create", "--title", "Planted", "--json"], { env: alice }).json.id);
    assert.equal(Number(id), n);
    assert.equal(s.run(["claim", "--id", id], { env: bob }).code, 0);
    const wt = s.run(["worktree", "--id", id, "--json"], { env: bob, cwd: repo });
    assert.equal(wt.code, 2, wt.stdout);
    assert.match(wt.json.error.message, new RegExp(`wo/${n}-planted was made before WO-${n} was .* and holds 1 commit\\(s\\) the default branch does not`));
    const said = /was made before WO-\d+ was \((\S+)\)/.exec(wt.json.error.message)![1]!;
    assert.ok(Date.parse(said) >= madeAt, `the branch's making (${said}), not its commit's date (twenty-third trials)`);
    assert.equal(gitIn(repo, bob, "branch", "-D", `wo/${n}-planted`).status, 0, "its holder deletes it");
    const again = s.run(["worktree", "--id", id, "--json"], { env: bob, cwd: repo });
    assert.equal(again.code, 0, again.stdout);
    assert.equal(git(again.json.path, "rev-parse", "HEAD"), git(repo, "rev-parse", "main"));
  });

  it("a new holder's worktree detaches the lapsed holder's, so its plain commit cannot land on the branch and revert the new work (thirteenth trials)", async () => {
    const id = s.run(["create", "--title", "Detach", "--json"], { env: alice }).json.id as number;
    const lapsing = lapsingClaim(id);
    const old = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(old, "d.txt"), "alice's half-done edit\n");
    await lapsing;
    assert.equal(s.run(["claim", "--id", String(id)], { env: bob }).code, 0);
    const wb = s.run(["worktree", "--id", String(id), "--json"], { env: bob, cwd: repo });
    assert.match(
      (wb.json.warnings ?? []).join("\n"),
      /an earlier holder's worktree\) had wo\/\d+-detach checked out: it is detached now, its files untouched \(1 uncommitted change\(s\): git -C .* status\)/,
    );
    const fresh = wb.json.path as string;
    writeFileSync(join(fresh, "d.txt"), "bob's verified work\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "bob's work"], { env: bob, cwd: fresh }).code, 0);
    const tip = git(repo, "rev-parse", wb.json.branch);
    assert.equal(readFileSync(join(old, "d.txt"), "utf8"), "alice's half-done edit\n", "the old worktree's files are untouched");
    git(old, "add", "-A");
    assert.equal(gitIn(old, alice, "-c", "core.hooksPath=/dev/null", "commit", "-qm", "late, no hooks").status, 0);
    assert.equal(git(repo, "rev-parse", wb.json.branch), tip, "the branch did not move");
    assert.equal(git(repo, "show", `${wb.json.branch}:d.txt`), "bob's verified work");
    // alice holds it again later: her first lease's worktree is not this lease's to checkpoint (fourteenth trials).
    assert.equal(s.run(["release", "--id", String(id)], { env: bob }).code, 0);
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    // With the branch checked out there again too, as verify refuses to run there (thirty-fourth trials).
    git(old, "checkout", "-q", "--ignore-other-worktrees", wb.json.branch);
    writeFileSync(join(old, "d2.txt"), "more\n");
    const stale = s.run(["checkpoint", "--id", String(id), "-m", "from the old tree"], { env: alice, cwd: old });
    assert.equal(stale.code, 2, stale.stdout + stale.stderr);
    assert.match(stale.stderr, /is the worktree of your earlier lease 1 on WO-\d+; you hold it under lease 3 now/);
  });

  it("the hooks refuse to put a lapsed lease's commit on the branch, even moved by its holder's worktree with no agent named (twenty-seventh trials)", async () => {
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0);
    const id = s.run(["create", "--title", "Late commit", "--json"], { env: alice }).json.id as number;
    const lapsing = lapsingClaim(id);
    const old = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    await lapsing;
    assert.equal(s.run(["claim", "--id", String(id)], { env: bob }).code, 0);
    const wb = s.run(["worktree", "--id", String(id), "--json"], { env: bob, cwd: repo });
    const tip = git(repo, "rev-parse", wb.json.branch);
    // alice, lapsed, commits in her old (now detached) worktree with the hooks off, naming her first lease.
    writeFileSync(join(old, "late.txt"), "alice after her lease\n");
    git(old, "add", "-A");
    const msg = `late\n\nWork-Order: gitty#${id}\nLease-Token: 1`;
    assert.equal(gitIn(old, alice, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", msg).status, 0);
    const late = git(old, "rev-parse", "HEAD");
    // Put on the branch from bob's worktree by a shell that names no agent: the worktree's holder moves it, but not with that commit.
    const moved = spawnSync("git", ["update-ref", `refs/heads/${wb.json.branch}`, late], { cwd: wb.json.path, encoding: "utf8", env: { ...process.env, ...s.env } });
    assert.notEqual(moved.status, 0, moved.stderr);
    assert.match(moved.stderr, /1 commit\(s\) it would take on were made outside the lease they name: \w{12} \(made at \S+, after alice's lease 1 on WO-\d+ ended/);
    assert.equal(git(repo, "rev-parse", wb.json.branch), tip, "the branch did not move");
    // bob's own commit moves it as before.
    writeFileSync(join(wb.json.path, "b.txt"), "bob\n");
    git(wb.json.path, "add", "-A");
    assert.equal(gitIn(wb.json.path, bob, "commit", "-q", "-m", "bob's").status, 0);
    assert.notEqual(git(repo, "rev-parse", wb.json.branch), tip);
  });

  it("the hooks fence a WO's branch checked out outside a workledger worktree too: its live holder's commits get its trailers, anyone else's are refused (fourteenth trials)", async () => {
    const id = s.run(["create", "--title", "Plain checkout", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0, "installed (again)");
    const branch = s.run(["branch", "--id", String(id), "--json"], { env: alice, cwd: repo }).json.branch as string;
    const plain = join(s.dir, "plain-checkout");
    git(repo, "worktree", "add", "--quiet", plain, branch);
    const commit = (agent: Record<string, string>, msg: string) => {
      writeFileSync(join(plain, "p.txt"), `${msg}\n`);
      git(plain, "add", "-A");
      return gitIn(plain, agent, "commit", "-q", "-m", msg);
    };
    const nobody = commit(alice, "nobody holds it");
    assert.notEqual(nobody.status, 0);
    assert.match(nobody.stderr, /is WO-\d+'s branch and nobody holds WO-\d+ \(open\)[\s\S]*claim WO-\d+ first/);
    // A cherry-pick runs no commit-msg hook, only prepare-commit-msg: that one fences it too (fifteenth trials).
    git(plain, "reset", "-q", "--hard");
    git(repo, "commit", "-q", "--allow-empty", "-m", "elsewhere");
    const picked = gitIn(plain, alice, "cherry-pick", "--allow-empty", "main");
    assert.notEqual(picked.status, 0, "a non-holder's cherry-pick is refused");
    assert.match(picked.stderr, /is WO-\d+'s branch and nobody holds WO-\d+ \(open\)/);
    git(plain, "cherry-pick", "--abort");
    // 6s: two commits, each running the hooks (two processes), must fit in it on a loaded CI machine.
    assert.equal(s.run(["claim", "--id", String(id), "--ttl", "6s"], { env: alice }).code, 0);
    const anonymous = commit({ WORKLEDGER_PROJECT: "gitty" }, "who am I");
    assert.notEqual(anonymous.status, 0, "an anonymous commit never gets the holder's lease");
    assert.match(anonymous.stderr, /this commit names no agent \(WORKLEDGER_AGENT is not set\)/);
    assert.equal(commit(alice, "alice holds it").status, 0);
    assert.match(git(plain, "log", "-1", "--format=%B"), new RegExp(`Work-Order: gitty#${id}\nLease-Token: 1`));
    assert.ok(await until(() => s.run(["get", "--id", String(id), "--json"], { env: bob }).json.lease === null, 10_000), "alice's lease lapses");
    assert.equal(s.run(["claim", "--id", String(id)], { env: bob }).code, 0);
    const late = commit(alice, "alice, lapsed");
    assert.notEqual(late.status, 0);
    assert.match(late.stderr, /bob's under lease 2: alice may not commit under it/);
    assert.equal(commit(bob, "bob holds it").status, 0);
  });

  it("a verification that runs git works in the holder's worktree, in the sandbox too (fourteenth MCP trial)", () => {
    const id = s.run(["create", "--title", "Git in the sandbox", "--verification", "git diff --quiet HEAD && test -f g.txt", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "g.txt"), "1\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "g"], { env: alice, cwd: tree }).code, 0);
    const v = s.run(["verify", "--id", String(id), "--json"], { env: alice, cwd: tree });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.json.passed, true);
  });

  it("a plain commit under the lease is recorded as a checkpoint: a pass from before it answers a failure no more (sixteenth trials)", () => {
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0);
    const id = s.run(["create", "--title", "Keeps r", "--verification", "test -f r.txt", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    assert.equal(s.run(["verify", "--id", String(id)], { env: alice, cwd: tree }).code, 6, "no r.txt yet");
    writeFileSync(join(tree, "r.txt"), "r\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "add r"], { env: alice, cwd: tree }).code, 0);
    assert.equal(s.run(["verify", "--id", String(id)], { env: alice, cwd: tree }).code, 0);
    git(tree, "rm", "-q", "r.txt");
    const commit = gitIn(tree, alice, "commit", "-q", "-m", "drop r");
    assert.equal(commit.status, 0, commit.stderr);
    const wo = s.run(["get", "--id", String(id), "--json"], { env: alice }).json;
    assert.equal(wo.checkpoints.at(-1)?.commit, git(tree, "rev-parse", "HEAD"), "the commit is the newest checkpoint");
    const done = s.run(["release", "--id", String(id), "--status", "done", "--json"], { env: alice });
    assert.equal(done.code, 6, done.stdout);
    assert.match(done.json.error.message, /its verification failed before it passed, and it was checkpointed/);
  });

  it("done standing on the WO's branch moved from the commit that passed (a reset) does not count that pass (seventeenth trials)", () => {
    const id = s.run(["create", "--title", "Keeps q", "--verification", "test -f q.txt", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "q.txt"), "q\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "add q"], { env: alice, cwd: tree }).code, 0);
    assert.equal(s.run(["verify", "--id", String(id)], { env: alice, cwd: tree }).code, 0);
    // Without the hooks (with them the reset is a checkpoint of its own, and the pass is before it).
    git(tree, "-c", "core.hooksPath=/dev/null", "reset", "-q", "--hard", "HEAD~1");
    const done = s.run(["release", "--id", String(id), "--status", "done", "--json"], { env: alice, cwd: tree });
    assert.equal(done.code, 0, done.stdout);
    assert.match(done.stderr, new RegExp(`done without a passing verification: its branch wo/${id}-keeps-q is at \\w{12} now, not at \\w{12} where its verification passed`));
  });

  it("verify runs in no other attempt's worktree: its command would write into work another agent holds (sixteenth MCP trial)", () => {
    const mine = s.run(["create", "--title", "Writes a file", "--verification", "touch escaped.txt", "--json"], { env: bob }).json.id as number;
    const theirs = s.run(["create", "--title", "Alice's own", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(mine)], { env: bob }).code, 0);
    assert.equal(s.run(["claim", "--id", String(theirs)], { env: alice }).code, 0);
    const aliceTree = s.run(["worktree", "--id", String(theirs)], { env: alice, cwd: repo }).stdout.trim();
    const refused = s.run(["verify", "--id", String(mine), "--dir", aliceTree, "--json"], { env: bob, cwd: repo });
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.json.error.message, new RegExp(`is gitty WO-${theirs}'s \\(lease 1\\) worktree, not yours for WO-${mine}: nothing was run`));
    assert.equal(existsSync(join(aliceTree, "escaped.txt")), false);
    const bobTree = s.run(["worktree", "--id", String(mine)], { env: bob, cwd: repo }).stdout.trim();
    assert.equal(s.run(["verify", "--id", String(mine), "--dir", bobTree], { env: bob, cwd: repo }).code, 0, "its own worktree");
  });

  it("a worktree is refused on a branch another project's work order already works on (same id and title: fifteenth trials)", () => {
    const id = s.run(["create", "--title", "Twin", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    assert.equal(s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).code, 0);
    const other = { WORKLEDGER_AGENT: "bob", WORKLEDGER_PROJECT: "twins" };
    const items = JSON.stringify(Array.from({ length: id }, () => ({ title: "Twin" })));
    assert.equal(s.run(["create", "--from", "-", "--new-project"], { env: other, input: items }).code, 0);
    assert.equal(s.run(["claim", "--id", String(id)], { env: other }).code, 0);
    const refused = s.run(["worktree", "--id", String(id), "--json"], { env: other, cwd: repo });
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.json.error.message, new RegExp(`wo/${id}-twin is also the branch of gitty#${id}`));
    // With no worktree of the other left, still refused (twentieth MCP trial: then it was finished on the other's work).
    git(repo, "worktree", "remove", "--force", join(s.dir, "repo.worktrees", "gitty", `wo-${id}-lease-1`));
    const still = s.run(["worktree", "--id", String(id), "--json"], { env: other, cwd: repo });
    assert.equal(still.code, 2, still.stdout);
    assert.match(still.json.error.message, new RegExp(`wo/${id}-twin is also the branch of gitty#${id}; nothing was changed`));
    // Nor does branch print it as its own (twenty-eighth trials).
    const named = s.run(["branch", "--id", String(id), "--json"], { env: other, cwd: repo });
    assert.equal(named.code, 2, named.stdout);
    assert.match(named.json.error.message, new RegExp(`wo/${id}-twin is also the branch of gitty#${id}`));
    // Nor does it checkpoint onto that branch from a checkout of it (twenty-seventh MCP trial: its commit landed on the other's branch).
    const plain = join(s.dir, "twin-checkout");
    git(repo, "worktree", "add", "--quiet", plain, `wo/${id}-twin`);
    writeFileSync(join(plain, "junk.txt"), "junk\n");
    const onto = s.run(["checkpoint", "--id", String(id), "-m", "junk", "--json"], { env: other, cwd: plain });
    assert.equal(onto.code, 2, onto.stdout);
    assert.match(onto.json.error.message, new RegExp(`wo/${id}-twin is also the branch of gitty#${id}`));
    git(repo, "worktree", "remove", "--force", plain);
    // The later one, held, never blocks the first: its holder's worktree and commits go on (twenty-seventh MCP trial: squatting).
    const mine = s.run(["worktree", "--id", String(id), "--json"], { env: alice, cwd: repo });
    assert.equal(mine.code, 0, mine.stdout);
    writeFileSync(join(mine.json.path, "twin.txt"), "alice's\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "alice's twin"], { env: alice, cwd: mine.json.path }).code, 0);
  });

  it("checkpoint and the next holder's worktree name changes outside the WO's files and links out of the tree; a worktree names a done dependency's unmerged work (thirty-first MCP trial)", () => {
    const dep = checkpointed("Add mul", "true", "mul.js", "mul\n");
    const finished = s.run(["release", "--id", dep.id, "--status", "done"], { env: alice });
    assert.equal(finished.code, 0, finished.stdout + finished.stderr);
    const id = String(s.run(["create", "--title", "Use mul", "--file", "src/use.js", "--depends-on", dep.id, "--json"], { env: alice }).json.id);
    const claimed = s.run(["claim", "--id", id], { env: alice });
    assert.equal(claimed.code, 0, claimed.stdout + claimed.stderr);
    const opened = s.run(["worktree", "--id", id, "--json"], { env: alice, cwd: repo });
    assert.match(
      opened.stderr,
      new RegExp(`WO-${dep.id} is done, but its work \\(wo/${dep.id}-add-mul at [0-9a-f]{12}\\) is not in this worktree: git merge wo/${dep.id}-add-mul here`),
    );
    const tree = opened.json.path as string;
    git(tree, "merge", "-q", `wo/${dep.id}-add-mul`);
    mkdirSync(join(tree, "src"));
    writeFileSync(join(tree, "src", "use.js"), "use\n");
    writeFileSync(join(tree, "package.json"), "{}\n");
    writeFileSync(join(tree, ".npmrc"), "script-shell=/tmp/evil.sh\n");
    symlinkSync("/root/.aws/credentials", join(tree, "creds.txt"));
    // An agent's client files and node_modules are never checkpointed (thirty-second MCP trial: npx ran a planted .bin as the next holder).
    // At any depth (thirty-third trials: a monorepo package's app/node_modules/.bin).
    mkdirSync(join(tree, "app", "node_modules", ".bin"), { recursive: true });
    writeFileSync(join(tree, "app", "node_modules", ".bin", "workledger"), "#!/bin/sh\n", { mode: 0o755 });
    const refused = s.run(["checkpoint", "--id", id, "-m", "use", "--json"], { env: alice, cwd: tree });
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.json.error.message, /^app\/node_modules\/\.bin\/workledger: an agent's client files and node_modules are never checkpointed/);
    assert.equal(git(tree, "diff", "--cached", "--name-only"), "", "the index is as it was");
    rmSync(join(tree, "app"), { recursive: true });
    const cp = s.run(["checkpoint", "--id", id, "-m", "use", "--json"], { env: alice, cwd: tree });
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(cp.stderr, new RegExp(`WO-${id} lists files src/use.js; this work also changes .npmrc, creds.txt, package.json: outside its scope`));
    assert.match(cp.stderr, /this work adds or changes \.npmrc: files your client, shell, git or npm runs outside any sandbox/);
    assert.match(cp.stderr, /creds\.txt: a link pointing outside the work tree/);
    assert.doesNotMatch(cp.stderr, /mul\.js/, "the dependency's merged work is not this checkpoint's to explain");
    assert.equal(s.run(["release", "--id", id], { env: alice }).code, 0);
    assert.equal(s.run(["claim", "--id", id], { env: bob }).code, 0);
    const taken = s.run(["worktree", "--id", id, "--json"], { env: bob, cwd: repo });
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stderr, /this work also changes \.npmrc, creds\.txt, package\.json: outside its scope/);
    assert.match(taken.stderr, /this work adds or changes \.npmrc: files your client, shell, git or npm runs outside any sandbox; read them/);
    assert.doesNotMatch(taken.stderr, /is done, but its work/, "the dependency's work is merged in");
  });

  it("checkpoint refuses a folder holding a repository of its own, which git would commit as a bare commit id (twenty-eighth trials)", () => {
    const id = s.run(["create", "--title", "Nested lib", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    mkdirSync(join(tree, "lib"));
    git(join(tree, "lib"), "init", "-q");
    writeFileSync(join(tree, "lib", "x.js"), "console.log(1)\n");
    git(join(tree, "lib"), "add", ".");
    git(join(tree, "lib"), "commit", "-qm", "n");
    const refused = s.run(["checkpoint", "--id", String(id), "-m", "lib", "--json"], { env: alice, cwd: tree });
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.json.error.message, /^lib holds a git repository of its own: git would commit only which commit it is at/);
    assert.equal(git(tree, "diff", "--cached", "--name-only"), "", "the index is as it was");
    rmSync(join(tree, "lib", ".git"), { recursive: true, force: true });
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "lib"], { env: alice, cwd: tree }).code, 0);
    assert.equal(git(repo, "show", `wo/${id}-nested-lib:lib/x.js`), "console.log(1)");
  });

  it("checkpoint refuses files that hold credentials, which every later holder would check out; samples and public keys go in (thirty-fourth trials)", () => {
    const id = s.run(["create", "--title", "Secrets", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    mkdirSync(join(tree, "keys", ".ssh"), { recursive: true });
    writeFileSync(join(tree, "keys", ".ssh", "id_ed25519"), "PRIVATE\n");
    writeFileSync(join(tree, "keys", ".ssh", "id_ed25519.pub"), "ssh-ed25519 AAAA\n");
    writeFileSync(join(tree, ".env"), "API_KEY=1\n");
    writeFileSync(join(tree, ".env.example"), "API_KEY=\n");
    writeFileSync(join(tree, ".npmrc"), "//registry.npmjs.org/:_authToken=npm_x\n");
    // By what they hold, whatever their names (thirty-fifth trials).
    writeFileSync(join(tree, "tls.key"), "-----BEGIN RSA PRIVATE KEY-----\nMII\n");
    writeFileSync(join(tree, "notes.txt"), `token ghp_${"a".repeat(36)}\n`);
    const refused = s.run(["checkpoint", "--id", String(id), "-m", "everything", "--json"], { env: alice, cwd: tree });
    assert.equal(refused.code, 2, refused.stdout);
    assert.match(refused.json.error.message, /: files that hold credentials are never checkpointed/);
    assert.deepEqual([...refused.json.error.details.files].sort(), [".env", ".npmrc", "keys/.ssh/id_ed25519", "notes.txt", "tls.key"]);
    assert.equal(git(tree, "diff", "--cached", "--name-only"), "", "the index is as it was");
    for (const f of [".env", ".npmrc", "keys/.ssh/id_ed25519", "tls.key", "notes.txt"]) rmSync(join(tree, f));
    writeFileSync(join(tree, ".npmrc"), "registry=https://registry.npmjs.org/\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "samples"], { env: alice, cwd: tree }).code, 0);
    assert.equal(git(repo, "ls-tree", "-r", "--name-only", `wo/${id}-secrets`, "--", ".env.example", ".npmrc", "keys").split("\n").length, 3);
    // What is added to a tracked file, a name in another case, and what a plain commit carried since the last checkpoint
    // are judged too (thirty-sixth trials).
    writeFileSync(join(tree, ".env.example"), `API_KEY=\nGH=gho_${"b".repeat(36)}\n`);
    writeFileSync(join(tree, ".ENV"), "API_KEY=1\n");
    git(tree, "add", "-A");
    git(tree, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "plain");
    writeFileSync(join(tree, "more.txt"), "more\n");
    const again = s.run(["checkpoint", "--id", String(id), "-m", "more", "--json"], { env: alice, cwd: tree });
    assert.equal(again.code, 2, again.stdout);
    assert.deepEqual([...again.json.error.details.files].sort(), [".ENV", ".env.example"]);
  });

  it("over MCP: worktree gives the holder's worktree, and checkpoint commits it under the lease", async () => {
    const id = s.run(["create", "--title", "Over MCP", "--verification", "test -f mcp.txt", "--json"], { env: alice }).json.id as number;
    const m = await connectMcp(s, "mcp-agent", { WORKLEDGER_PROJECT: "gitty" }, repo);
    try {
      assert.equal((await m.call("worktree", { id })).body.error.code, "NOT_HOLDER");
      await m.call("claim", { id });
      const w = await m.call("worktree", { id });
      assert.equal(w.isError, false, JSON.stringify(w.body));
      writeFileSync(join(w.body.path, "mcp.txt"), "from a model\n");
      const cp = await m.call("checkpoint", { id, message: "a model's work" });
      assert.equal(cp.isError, false, JSON.stringify(cp.body));
      assert.equal(git(repo, "show", "-s", "--format=%s", w.body.branch), "a model's work");
      // Its handover is stamped with its worktree's state, not the server's directory (thirteenth MCP trial).
      writeFileSync(join(w.body.path, "wip.txt"), "not committed\n");
      const put = await m.call("context_put", { id, body: "wip.txt is a draft" });
      assert.deepEqual([put.body.git?.branch, put.body.git?.dirty], [w.body.branch, true], JSON.stringify(put.body));
      rmSync(join(w.body.path, "wip.txt"));
      // The server runs in the repository; verify runs in the model's worktree for the WO, where the work is (ninth MCP trial).
      const v = await m.call("verify", { id });
      assert.equal(v.isError, false, JSON.stringify(v.body));
      assert.deepEqual([v.body.passed, v.body.dir], [true, w.body.path]);
      assert.equal((await m.call("checkpoint", { id, message: "again", dir: "/" })).body.error.code, "VALIDATION", "dir is not a tool argument");
      // Claimed again, its earlier lease's worktree is not this lease's: verify does not fall back to the server's main checkout
      // on another branch, where a failure would block done (twenty-seventh MCP trial); it says to make the worktree.
      assert.equal((await m.call("release", { id })).isError, false);
      await m.call("claim", { id });
      const off = await m.call("verify", { id });
      assert.equal(off.body.error?.code, "VALIDATION", JSON.stringify(off.body));
      assert.match(off.body.error.message, /your worktree for WO-\d+ \(lease 2\) does not exist, and this server's directory .* is on \S+, not wo\/\d+-over-mcp/);
      assert.match(off.body.error.hint, /make your worktree for this lease \(worktree/);
      const again = await m.call("worktree", { id });
      assert.deepEqual([(await m.call("verify", { id })).body.passed], [true], JSON.stringify(again.body));
    } finally {
      await m.client.close();
    }
  });

  it("check-commits reports commits without trailers, and fails on them only with --require-trailers; a bad range is refused", () => {
    git(repo, "checkout", "-q", "-b", "plain");
    git(repo, "commit", "-q", "--allow-empty", "-m", "no trailers here");
    const r = s.run(["check-commits", "main..plain"], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /unmarked\s+\w{12} no trailers here/);
    assert.equal(s.run(["check-commits", "main..plain", "--require-trailers"], { cwd: repo }).code, 5);
    const forge = ["commit", "-q", "--allow-empty", "-m", "forged", "-m", "Work-Order: gitty#1\nLease-Token: 99"];
    assert.match(gitIn(repo, {}, ...forge).stderr, /commit refused: lease token 99 was never issued on WO-1/);
    git(repo, ...forge, "--no-verify");
    const forged = s.run(["check-commits", "main..plain", "--json"], { cwd: repo });
    assert.equal(forged.code, 5);
    assert.equal(forged.json.commits.at(-1).verdict.problem, "never_issued");
    assert.equal(s.run(["check-commits", "--output=/tmp/x"], { cwd: repo }).code, 2);
    assert.equal(s.run(["check-commits", "--", "--output=/tmp/x"], { cwd: repo }).code, 2);
    // A revision the repository does not have is bad input, not an outage (fifteenth trials: exit 7).
    const unknown = s.run(["check-commits", "nonexistent..HEAD", "--json"], { cwd: repo });
    assert.deepEqual([unknown.code, unknown.json.error.code], [2, "VALIDATION"]);
  });
});
