/**
 * Agents on one machine find one ledger without configuring each other
 * (issue 23, DESIGN.md §9): `init` in a git repository writes its
 * `.workledger`, and every agent working there (another HOME, a
 * subdirectory, a linked worktree) uses that ledger and project.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";

describe("CLI: one ledger per repository (issue 23)", () => {
  let s: Sandbox;
  let repo: string;
  const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd, stdio: "pipe" });
  // Each agent has a HOME of its own and names no ledger: only the repository can bring them together.
  const as = (agent: string, home: string) => ({ WORKLEDGER_AGENT: agent, HOME: join(s.dir, home), WORKLEDGER_DB: undefined });

  before(() => {
    s = sandbox();
    repo = join(s.dir, "repo");
    mkdirSync(join(repo, "src", "deep"), { recursive: true });
    git(repo, "init", "-q");
    writeFileSync(join(repo, "README"), "x\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "first");
    git(repo, "worktree", "add", "-q", join(s.dir, "repo.worktrees", "wo-1"));
  });
  after(() => s.cleanup());

  it("init writes the repository's .workledger (kept out of git); agents with other HOMEs, in subdirectories and worktrees, use its ledger and project", () => {
    const init = s.run(["init", "-p", "shop", "--json"], { cwd: repo, env: as("alice", "home-a") });
    assert.equal(init.code, 0, init.stdout);
    const db = join(s.dir, "home-a", ".workledger", "ledger.db");
    assert.deepEqual([init.json.db, init.json.config], [db, join(repo, ".workledger")]);
    assert.deepEqual(JSON.parse(readFileSync(join(repo, ".workledger"), "utf8")), { db, project: "shop" });
    assert.match(readFileSync(join(repo, ".git", "info", "exclude"), "utf8"), /^\/\.workledger$/m);
    assert.equal(s.run(["create", "--title", "shared", "--json"], { cwd: repo, env: as("alice", "home-a") }).code, 0);

    for (const cwd of [join(repo, "src", "deep"), join(s.dir, "repo.worktrees", "wo-1")]) {
      const list = s.run(["list", "--json"], { cwd, env: as("bob", "home-b") });
      assert.equal(list.code, 0, list.stdout);
      assert.deepEqual(
        list.json.map((w: { title: string }) => w.title),
        ["shared"],
        cwd,
      );
      const me = s.run(["whoami", "--json"], { cwd, env: as("bob", "home-b") }).json;
      assert.deepEqual([me.ledger, me.project, me.from], [db, "shop", { ledger: join(repo, ".workledger"), project: join(repo, ".workledger") }]);
    }
    const doctor = s.run(["doctor", "--json"], { cwd: repo, env: as("bob", "home-b") });
    assert.equal(doctor.code, 0, doctor.stdout);
    assert.match(doctor.json.checks[0].detail, new RegExp(`from ${join(repo, ".workledger")}`));
  });

  it("a named ledger wins over the repository's; outside it, a missing project names the ledger searched", () => {
    const other = join(s.dir, "other.db");
    const named = s.run(["whoami", "--json"], { cwd: repo, env: { ...as("bob", "home-b"), WORKLEDGER_DB: other } }).json;
    assert.deepEqual([named.ledger, named.from.ledger, named.project], [other, "WORKLEDGER_DB", null]);
    // The very ledger the repository names: its project too (thirty-fourth trials).
    const same = s.run(["whoami", "--json"], { cwd: repo, env: { ...as("bob", "home-b"), WORKLEDGER_DB: join(s.dir, "home-a", ".workledger", "ledger.db") } }).json;
    assert.deepEqual([same.project, same.from], ["shop", { ledger: "WORKLEDGER_DB", project: join(repo, ".workledger") }]);
    const lost = s.run(["list", "-p", "shop", "--json"], { cwd: s.dir, env: as("bob", "home-b") });
    assert.equal(lost.code, 4);
    assert.match(lost.json.error.message, new RegExp(`project shop does not exist \\(searched ledger ${join(s.dir, "home-b", ".workledger", "ledger.db")}\\)`));
    assert.match(lost.json.error.hint, /\.workledger/);
  });

  it("a broken .workledger, or one that puts the ledger inside the repository, is refused with what to do", () => {
    const bad = join(s.dir, "bad");
    mkdirSync(bad);
    git(bad, "init", "-q");
    writeFileSync(join(bad, ".workledger"), '{"db": "ledger.db"}');
    const inside = s.run(["list", "--json"], { cwd: bad, env: as("bob", "home-b") });
    assert.equal(inside.code, 2);
    assert.match(inside.json.error.message, /is inside the repository/);
    writeFileSync(join(bad, ".workledger"), "{not json");
    const broken = s.run(["list", "--json"], { cwd: bad, env: as("bob", "home-b") });
    assert.equal(broken.code, 2);
    assert.match(broken.json.error.message, /\.workledger: not valid JSON/);
    assert.match(broken.json.error.hint, /fix or remove/);
    const role = s.run(["whoami", "--json"], { env: { ...as("bob", "home-b"), WORKLEDGER_ROLE: "root" } });
    assert.equal(role.code, 2);
    assert.match(role.json.error.message, /WORKLEDGER_ROLE: must be admin or agent/);
  });
});
