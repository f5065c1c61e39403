/**
 * The reference-transaction hook (issue 23, seventeenth round): a WO's branch
 * moves only for its live holder, whatever git command moves it (merge
 * --ff-only, reset, update-ref, branch -f, fetch), and git's own ref packing
 * and other branches are left alone.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";

describe("CLI: a WO's branch moves only for its holder (reference-transaction hook)", () => {
  let s: Sandbox;
  let repo: string;
  const alice = { WORKLEDGER_AGENT: "alice", WORKLEDGER_PROJECT: "fence" };
  const bob = { WORKLEDGER_AGENT: "bob", WORKLEDGER_PROJECT: "fence" };
  const nobody = { WORKLEDGER_PROJECT: "fence" };
  const id = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
  const gitIn = (cwd: string, agent: Record<string, string>, ...args: string[]) =>
    spawnSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, WORKLEDGER_AGENT: "", WORKLEDGER_ROLE: "", ...s.env, ...id, ...agent } });
  const git = (cwd: string, agent: Record<string, string>, ...args: string[]) => {
    const r = gitIn(cwd, agent, ...args);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const branch = "wo/1-fenced-work";
  const tip = () => git(repo, {}, "rev-parse", branch);
  const refused = (r: ReturnType<typeof gitIn>, who: RegExp, name = branch, wo = 1) => {
    assert.notEqual(r.status, 0, "the update is refused");
    assert.match(r.stderr, new RegExp(`workledger: branch update refused: ${name} is WO-${wo}'s branch and `));
    assert.match(r.stderr, who);
    assert.match(r.stderr, /the branch did not move \(a command that also writes files/, "git may have written files before the ref (twenty-first trials)");
  };
  let other: string;

  before(() => {
    s = sandbox();
    repo = join(s.dir, "repo");
    mkdirSync(repo);
    git(repo, {}, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "README"), "hello\n");
    git(repo, {}, "add", ".");
    git(repo, {}, "commit", "-q", "-m", "start");
    // A commit on another branch, which a non-holder tries to put on the WO's.
    git(repo, {}, "checkout", "-q", "-b", "bobs-idea");
    git(repo, {}, "commit", "-q", "--allow-empty", "-m", "bob's idea");
    other = git(repo, {}, "rev-parse", "HEAD");
    git(repo, {}, "checkout", "-q", "main");
    assert.equal(s.run(["create", "--title", "Fenced work", "--new-project"], { env: alice }).code, 0);
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0);
  });
  after(() => s.cleanup());

  it("the holder's own commits and checkpoints move it; a non-holder's merge --ff-only, reset, commit --no-verify, update-ref and fetch do not", () => {
    assert.equal(s.run(["claim", "--id", "1"], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", "1"], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "a.txt"), "alice\n");
    assert.equal(s.run(["checkpoint", "--id", "1", "-m", "alice's work"], { env: alice, cwd: tree }).code, 0);
    // Every move the holder makes is recorded as a checkpoint, once, with its commit's subject (twentieth trials: a
    // `pull --ff-only` was not, and a pass at the commit before it, in a clone, finished the WO).
    const checkpoints = () =>
      s.run(["get", "--id", "1", "--json"], { env: alice }).json.checkpoints.map((c: { commit: string; message: string; agent: string }) => [c.commit, c.message, c.agent]);
    const last = () => checkpoints().at(-1);
    git(tree, alice, "commit", "-q", "--allow-empty", "-m", "alice commits herself");
    assert.deepEqual(last(), [tip(), "alice commits herself", "alice"]);
    // With no name given, the worktree's own tag says whose it is.
    git(tree, {}, "commit", "-q", "--allow-empty", "-m", "alice, WORKLEDGER_AGENT unset");
    assert.deepEqual(last(), [tip(), "alice, WORKLEDGER_AGENT unset", "alice"]);
    // Her own reset back and fast-forward merge are hers to make, and recorded (twentieth trials: "nothing" to checkpoint).
    const before = tip();
    git(tree, alice, "reset", "-q", "--hard", "HEAD~1");
    assert.deepEqual(last(), [tip(), "alice commits herself", "alice"]);
    assert.equal(s.run(["checkpoint", "--id", "1", "-m", "back one", "--json"], { env: alice, cwd: tree }).json.nothing, true, "recorded already");
    git(tree, alice, "merge", "-q", "--ff-only", before);
    assert.deepEqual(last(), [before, "alice, WORKLEDGER_AGENT unset", "alice"]);
    const count = checkpoints().length;
    git(repo, alice, "update-ref", `refs/heads/${branch}`, before); // no move: nothing recorded
    assert.equal(checkpoints().length, count);
    git(tree, alice, "reset", "-q", "--hard", "HEAD~1");
    const held = tip();
    // Bob's commit on top of alice's work (commit-tree moves no branch), which a fast-forward would put on the branch.
    const ahead = git(repo, bob, "commit-tree", `${held}^{tree}`, "-p", held, "-m", "bob's fast-forward");

    // Bob checks the branch out beside alice's worktree (git lets him with --force) and tries every way to move it.
    const bobs = join(s.dir, "bobs-checkout");
    git(repo, bob, "worktree", "add", "-q", "--force", bobs, branch);
    const merge = gitIn(bobs, bob, "merge", "-q", "--ff-only", ahead);
    refused(merge, /alice holds it \(lease 1\): only its holder moves it, not bob/);
    assert.doesNotMatch(merge.stderr, /claim WO-1/, "alice holds it: nothing to claim");
    refused(gitIn(bobs, bob, "reset", "-q", "--hard", "main"), /not bob/);
    refused(gitIn(bobs, bob, "commit", "-q", "--allow-empty", "--no-verify", "-m", "skips the commit hooks"), /not bob/);
    refused(gitIn(repo, bob, "update-ref", `refs/heads/${branch}`, ahead), /not bob/);
    refused(gitIn(repo, bob, "fetch", "--update-head-ok", ".", `+bobs-idea:${branch}`), /not bob/);
    refused(gitIn(repo, bob, "update-ref", "-d", `refs/heads/${branch}`), /only its holder deletes it, not bob/);
    // Whatever project the caller names, the branch is judged as every project's (twentieth trials: WORKLEDGER_PROJECT=other).
    refused(gitIn(repo, { ...bob, WORKLEDGER_PROJECT: "elsewhere" }, "update-ref", `refs/heads/${branch}`, ahead), /not bob/);
    const nameless = gitIn(repo, nobody, "update-ref", `refs/heads/${branch}`, other);
    refused(nameless, /not an agent with no name \(WORKLEDGER_AGENT is not set\)/);
    // It may be its holder's shell (twenty-third MCP trial: told to claim what it held); the project is named, the caller's default may be another.
    assert.match(
      nameless.stderr,
      /if you are alice, run git in your worktree for it \(workledger worktree --project fence --id 1, or over MCP the worktree tool, prints its path\) or with WORKLEDGER_AGENT=alice set/,
    );
    assert.equal(tip(), held, "the branch did not move");

    // git's ref packing (gc, also run automatically) rewrites every ref: it is not a move.
    git(repo, bob, "gc", "-q");
    git(repo, bob, "pack-refs", "--all");
    assert.equal(tip(), held);
    // Told apart by the command git runs, not by a word anywhere on its line (thirty-third trials: a reflog message).
    refused(gitIn(repo, bob, "update-ref", "-m", "pack-refs", `refs/heads/${branch}`, ahead), /not bob/);
    refused(gitIn(repo, bob, "-c", "x.y=pack-refs", "update-ref", `refs/heads/${branch}`, ahead), /not bob/);
    assert.equal(tip(), held);
    git(repo, bob, "branch", "bobs-copy", "bobs-idea"); // renamed onto a WO's branch below
    // Other branches never reach workledger.
    git(repo, bob, "branch", "-f", "bobs-idea", "main");
    // git replace would make the branch show another commit's content: a person's act (eighteenth trials).
    const replaced = gitIn(repo, bob, "replace", held, ahead);
    assert.notEqual(replaced.status, 0);
    assert.match(replaced.stderr, /workledger: ref update refused: refs\/replace\/\w+: git replace changes what every branch shows/);
    git(repo, { ...bob, WORKLEDGER_ROLE: "admin" }, "replace", held, ahead);
    git(repo, bob, "replace", "-d", held); // undoing one is anyone's
    // A person's shell that asks for admin may move it (recorded nowhere: it is git, not the ledger).
    git(repo, { ...bob, WORKLEDGER_ROLE: "admin" }, "update-ref", `refs/heads/${branch}`, ahead);
    assert.equal(tip(), ahead);
    assert.equal(last()[0], held, "a move not the holder's is no checkpoint of its");
  });

  it("nobody moves it once its lease lapses; once done and merged, anyone may delete it; anyone creates a branch nobody holds at the default branch's tip, nowhere else", () => {
    assert.equal(s.run(["release", "--id", "1", "--status", "done"], { env: alice }).code, 0);
    const finished = gitIn(repo, alice, "update-ref", `refs/heads/${branch}`, other);
    refused(finished, /nobody holds it \(done\): only its holder moves it, not alice/);
    assert.doesNotMatch(finished.stderr, /claim WO-1/, "a done WO is nobody's to claim (twentieth trials)");
    git(repo, bob, "worktree", "remove", "--force", join(s.dir, "bobs-checkout"));
    const tree = join(s.dir, "repo.worktrees", "fence", "wo-1-lease-1");
    git(repo, bob, "worktree", "remove", "--force", tree);
    // Done with work main does not have: kept until it is merged (twentieth trials: deleted, made again at main, the work was gone).
    refused(gitIn(repo, bob, "branch", "-D", branch), /holds done work the default branch does not have: merge it before deleting it/);
    git(repo, {}, "merge", "-q", "--no-edit", branch);
    git(repo, bob, "branch", "-D", branch);
    // A new WO's branch, made by someone who does not hold it (nobody does yet): at the default branch's tip, what
    // `workledger branch` does, and nowhere else (eighteenth trials: a lapsed holder made it at a commit of its own).
    assert.equal(s.run(["create", "--title", "Second"], { env: alice }).code, 0);
    const made2 = gitIn(repo, bob, "branch", "wo/2-second", other);
    refused(made2, /only its holder makes it anywhere but at the default branch's tip/, "wo/2-second", 2);
    assert.match(made2.stderr, /claim WO-2 to work on its branch \(then workledger worktree --project fence --id 2/);
    // A rename onto a WO's branch name writes it without a transaction of its own (nineteenth trials): judged by the old one's deletion.
    refused(gitIn(repo, bob, "branch", "-m", "bobs-copy", "wo/2-second"), /only its holder makes it anywhere but at the default branch's tip/, "wo/2-second", 2);
    const made = s.run(["branch", "--id", "2", "--json"], { env: bob, cwd: repo });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.json.created, true);
  });

  it("its holder's rename onto it is a checkpoint; its holder does not rename, delete or overwrite away its checkpointed work (twenty-second trials)", () => {
    const id = s.run(["create", "--title", "Renamed", "--json"], { env: alice }).json.id as number;
    const name = `wo/${id}-renamed`;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    git(tree, alice, "checkout", "-q", "--detach"); // git renames nothing onto a branch checked out
    const side = git(repo, alice, "commit-tree", "main^{tree}", "-p", git(repo, {}, "rev-parse", name), "-m", "put on by a rename");
    git(repo, alice, "branch", "side-work", side);
    git(repo, alice, "branch", "-M", "side-work", name);
    assert.equal(git(repo, {}, "rev-parse", name), side);
    assert.equal(s.run(["get", "--id", String(id), "--json"], { env: alice }).json.checkpoints.at(-1).commit, side, "recorded");
    const away = gitIn(repo, alice, "branch", "-m", name, `away-${id}`);
    refused(away, /holds its checkpointed work, which the default branch does not have: it stays while the work order is open/, name, id);
    const deleted = gitIn(repo, alice, "branch", "-D", name);
    refused(deleted, /holds its checkpointed work/, name, id);
    assert.doesNotMatch(deleted.stderr, /claim WO-/, "its holder is not told to claim it");
    git(repo, alice, "branch", "other-work", "main");
    refused(gitIn(repo, alice, "branch", "-M", "other-work", name), /holds its checkpointed work/, name, id);
    assert.equal(git(repo, {}, "rev-parse", name), side);
  });

  it("a WO's branch made a symbolic ref by anyone (git runs no hook for it) is named by checkpoint and verify, and its holder's worktree makes it a branch again", () => {
    const id = s.run(["create", "--title", "Redirected", "--verification", "true", "--json"], { env: alice }).json.id as number;
    const name = `wo/${id}-redirected`;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    git(tree, alice, "commit", "-q", "--allow-empty", "-m", "alice's start");
    const at = git(repo, {}, "rev-parse", name);
    git(repo, bob, "symbolic-ref", `refs/heads/${name}`, "refs/heads/bobs-idea");
    for (const [args, did] of [
      [["checkpoint", "--id", String(id), "-m", "x"], /nothing was committed/],
      [["verify", "--id", String(id)], /nothing was run/],
    ] as const) {
      const r = s.run([...args], { env: alice, cwd: tree });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${name} is a symbolic ref to bobs-idea \\(made with git symbolic-ref, which no git hook sees\\)`));
      assert.match(r.stderr, did);
      assert.match(r.stderr, /its holder's worktree makes it a branch again, at its last checkpoint/);
    }
    // The holder's plain commit would land on bobs-idea: refused, and it does not move (thirty-fifth trials: it moved main).
    const before = git(repo, {}, "rev-parse", "bobs-idea");
    const plain = gitIn(tree, alice, "commit", "-q", "--allow-empty", "-m", "alice's next");
    assert.notEqual(plain.status, 0, "refused");
    assert.match(plain.stderr, new RegExp(`${name} is a symbolic ref to bobs-idea .*the commit was not made`));
    assert.equal(git(repo, {}, "rev-parse", "bobs-idea"), before);
    // The holder's worktree puts it back where its last checkpoint is (a plain shell's update-ref names no agent: refused).
    const back = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo });
    assert.equal(back.code, 0, back.stderr);
    assert.match(
      back.stderr,
      new RegExp(`${name} was a symbolic ref to bobs-idea .+: it is a branch again, at its last checkpoint ${at.slice(0, 12)}; bobs-idea's commits are not on it`),
    );
    assert.equal(gitIn(repo, {}, "symbolic-ref", "-q", `refs/heads/${name}`).status, 1, "a branch again");
    assert.equal(git(repo, {}, "rev-parse", name), at);
    const passed = s.run(["verify", "--id", String(id)], { env: alice, cwd: tree });
    assert.equal(passed.code, 0, passed.stderr);
    refused(gitIn(repo, bob, "update-ref", `refs/heads/${name}`, other), /not bob/, name, id);
  });

  it("a project's own branch prefix is fenced too, whatever it ends with (twenty-first trials: team/wo- was not)", () => {
    assert.equal(s.run(["project", "set", "fence", "--as-admin", "--branch-prefix", "team/wo-"], { env: alice }).code, 0);
    const id = s.run(["create", "--title", "Prefixed", "--json"], { env: alice }).json.id as number;
    const name = `team/wo-${id}-prefixed`;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    git(tree, alice, "commit", "-q", "--allow-empty", "-m", "prefixed work");
    const at = git(repo, {}, "rev-parse", name);
    assert.equal(s.run(["get", "--id", String(id), "--json"], { env: alice }).json.checkpoints.at(-1).commit, at, "the holder's commit is recorded");
    refused(gitIn(repo, bob, "update-ref", `refs/heads/${name}`, other), /not bob/, name, id);
    assert.equal(git(repo, {}, "rev-parse", name), at);
  });

  it("its holder's commit that adds .workledger is refused, --no-verify too: checked out, it would turn every agent's hooks to another ledger (twenty-fifth trials)", () => {
    const id = s.run(["create", "--title", "Pin trap", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    const name = git(tree, {}, "symbolic-ref", "--short", "HEAD");
    const at = git(repo, {}, "rev-parse", name);
    writeFileSync(join(tree, ".workledger"), '{"db":"/tmp/elsewhere.db"}\n');
    git(tree, alice, "add", "-f", ".workledger");
    const r = gitIn(tree, alice, "commit", "-q", "--no-verify", "-m", "config");
    assert.notEqual(r.status, 0, "refused");
    assert.match(r.stderr, /adds \.workledger, the file naming the ledger .* it is never committed/);
    assert.equal(git(repo, {}, "rev-parse", name), at, "the branch did not move");
    // With the hooks skipped the commit lands; checkpoint then refuses to take it on (twenty-sixth trials).
    git(tree, alice, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "config, hooks skipped");
    const cp = s.run(["checkpoint", "--id", String(id), "-m", "more", "--json"], { env: alice, cwd: tree });
    assert.equal(cp.code, 2, cp.stdout + cp.stderr);
    assert.match(cp.stdout + cp.stderr, /holds \.workledger, the file naming the ledger .* nothing was checkpointed/);
  });

  it("its holder's commit of an agent client's files is refused, --no-verify too, an admin's is not: the next holder's client would run them (thirty-fourth trials)", () => {
    const id = s.run(["create", "--title", "Client trap", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    const name = git(tree, {}, "symbolic-ref", "--short", "HEAD");
    const at = git(repo, {}, "rev-parse", name);
    mkdirSync(join(tree, "pkg", ".claude"), { recursive: true });
    writeFileSync(join(tree, "pkg", ".claude", "settings.json"), '{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"id"}]}]}}\n');
    git(tree, alice, "add", "-f", "pkg/.claude/settings.json");
    const r = gitIn(tree, alice, "commit", "-q", "--no-verify", "-m", "settings");
    assert.notEqual(r.status, 0, "refused");
    assert.match(r.stderr, /adds or changes pkg\/\.claude\/settings\.json: files an agent's client runs .* only an admin puts them on a work order's branch/);
    assert.equal(git(repo, {}, "rev-parse", name), at, "the branch did not move");
    git(tree, { ...alice, WORKLEDGER_ROLE: "admin" }, "commit", "-q", "-m", "settings, by a person");
    assert.notEqual(git(repo, {}, "rev-parse", name), at, "an admin's moves it");
    // Credentials, by name or by what they hold, as checkpoint refuses them (thirty-fifth trials).
    const before = git(repo, {}, "rev-parse", name);
    writeFileSync(join(tree, ".env.production"), "API_KEY=1\n");
    writeFileSync(join(tree, "server.pem"), "-----BEGIN PRIVATE KEY-----\nMII\n");
    git(tree, alice, "add", "-f", ".env.production", "server.pem");
    const keys = gitIn(tree, alice, "commit", "-q", "-m", "keys");
    assert.notEqual(keys.status, 0, "refused");
    assert.match(keys.stderr, /adds \.env\.production, server\.pem, holding credentials every later holder of the work order would check out/);
    assert.equal(git(repo, {}, "rev-parse", name), before, "the branch did not move");
  });

  it("a new worktree names the agent clients' files its branch brings, from the default branch too, which any agent may move (thirty-fifth trials)", () => {
    writeFileSync(join(repo, ".mcp.json"), '{"mcpServers":{"x":{"command":"sh"}}}\n');
    git(repo, {}, "add", "-f", ".mcp.json");
    git(repo, {}, "commit", "-q", "-m", "tooling");
    try {
      const id = s.run(["create", "--title", "After tooling", "--json"], { env: alice }).json.id as number;
      assert.equal(s.run(["claim", "--id", String(id)], { env: bob }).code, 0);
      const made = s.run(["worktree", "--id", String(id), "--json"], { env: bob, cwd: repo });
      assert.equal(made.code, 0, made.stderr);
      assert.ok(
        (made.json.warnings as string[]).some((w) => /^this worktree holds files an agent's client runs as you when you start it here \(\.mcp\.json\)/.test(w)),
        JSON.stringify(made.json.warnings),
      );
    } finally {
      git(repo, {}, "rm", "-q", ".mcp.json");
      git(repo, {}, "commit", "-q", "-m", "no tooling");
    }
  });

  it("a lapsed holder's commit with its old lease's trailers and date, put on the branch with the hooks skipped, is named by the next holder's worktree and checkpoint (thirty-fourth trials)", () => {
    const id = s.run(["create", "--title", "Forged tip", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id)], { env: alice, cwd: repo }).stdout.trim();
    writeFileSync(join(tree, "test.sh"), "exit 1\n");
    assert.equal(s.run(["checkpoint", "--id", String(id), "-m", "real work"], { env: alice, cwd: tree }).code, 0);
    const name = git(tree, {}, "symbolic-ref", "--short", "HEAD");
    const checkpointed = git(repo, {}, "rev-parse", name);
    const date = git(repo, {}, "log", "-1", "--format=%cI", checkpointed);
    assert.equal(s.run(["release", "--id", String(id)], { env: alice }).code, 0);
    // After the release: a commit gutting the test, its trailers and dates copied from the lease that was live.
    writeFileSync(join(tree, "test.sh"), "exit 0\n");
    git(tree, {}, "add", "test.sh");
    const treeId = git(tree, {}, "write-tree");
    const forged = git(
      tree,
      { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
      "commit-tree",
      treeId,
      "-p",
      checkpointed,
      "-m",
      `tidy tests\n\nWork-Order: fence#${id}\nLease-Token: 1`,
    );
    git(tree, {}, "-c", "core.hooksPath=/dev/null", "update-ref", `refs/heads/${name}`, forged);
    assert.equal(s.run(["claim", "--id", String(id)], { env: bob }).code, 0);
    const taken = s.run(["worktree", "--id", String(id), "--json"], { env: bob, cwd: repo });
    assert.equal(taken.code, 0, taken.stderr);
    const said = new RegExp(`${name} was moved past ${checkpointed.slice(0, 12)} to ${forged.slice(0, 12)} \\(1 commit\\(s\\)\\) with workledger's git hooks skipped`);
    assert.ok(
      (taken.json.warnings as string[]).some((w) => said.test(w)),
      JSON.stringify(taken.json.warnings),
    );
    writeFileSync(join(taken.json.path as string, "b.txt"), "bob\n");
    const cp = s.run(["checkpoint", "--id", String(id), "-m", "bob's work", "--json"], { env: bob, cwd: taken.json.path as string });
    assert.equal(cp.code, 0, cp.stderr);
    assert.ok(
      (cp.json.warnings as string[]).some((w) => w.startsWith("recorded as yours: ") && said.test(w)),
      JSON.stringify(cp.json.warnings),
    );
  });

  it("a tag or other ref named like a branch (a WO's, the default one) is refused: it would shadow the branch; others are not (twenty-ninth and thirtieth trials)", () => {
    for (const [args, ref] of [
      [["tag", branch, other], `refs/tags/${branch}`],
      [["tag", "main", other], "refs/tags/main"],
      [["update-ref", `refs/${branch}`, other], `refs/${branch}`],
    ] as const) {
      const r = gitIn(repo, bob, ...args);
      assert.notEqual(r.status, 0, ref);
      assert.match(r.stderr, new RegExp(`${ref}: named like the branch \\S+, it would shadow it`));
    }
    assert.equal(gitIn(repo, bob, "tag", "v1.0", other).status, 0);
  });

  it("no branch, the default one included, takes on a commit adding .workledger: pulled into the main checkout it turned every agent's ledger (thirtieth trials)", () => {
    git(repo, {}, "checkout", "-q", "-b", "carols-pin");
    writeFileSync(join(repo, ".workledger"), '{"db":"/tmp/elsewhere.db"}\n');
    git(repo, {}, "add", "-f", ".workledger");
    git(repo, {}, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "helper");
    const pinned = git(repo, {}, "rev-parse", "HEAD");
    git(repo, {}, "-c", "core.hooksPath=/dev/null", "checkout", "-q", "main");
    const main = git(repo, {}, "rev-parse", "main");
    const r = gitIn(repo, bob, "update-ref", "refs/heads/main", pinned);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /adds \.workledger, the file naming the ledger/);
    assert.equal(git(repo, {}, "rev-parse", "main"), main, "main did not move");
  });

  it("the hooks judge by the ledger the repository's .workledger names, not the shell's WORKLEDGER_DB (twenty-ninth trials)", () => {
    const id = s.run(["create", "--title", "Pinned ledger", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const tree = s.run(["worktree", "--id", String(id), "--json"], { env: alice, cwd: repo }).json;
    const pin = join(repo, ".workledger");
    writeFileSync(pin, JSON.stringify({ db: s.db }) + "\n");
    try {
      // bob's own, empty ledger: nothing in it holds the WO, so by it the move would go through.
      const moved = gitIn(repo, { ...bob, WORKLEDGER_DB: join(s.dir, "bobs.db") }, "update-ref", `refs/heads/${tree.branch}`, other);
      refused(moved, /alice holds it \(lease 1\): only its holder moves it, not bob/, tree.branch, id);
    } finally {
      rmSync(pin);
    }
  });

  it("a non-holder's `branch` for a held WO is the lease's refusal, not git being unavailable (twenty-sixth trials)", () => {
    const id = s.run(["create", "--title", "Not yours", "--json"], { env: alice }).json.id as number;
    assert.equal(s.run(["claim", "--id", String(id)], { env: alice }).code, 0);
    const r = s.run(["branch", "--id", String(id), "--json"], { env: bob, cwd: repo });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.equal(r.json.error.code, "LEASE_HELD");
    assert.match(r.json.error.message, /only its holder .*was not created/);
  });
});
