/**
 * Issue 23 through the real CLI on a local ledger: what the SKILL.md-only
 * trial did, one command at a time, no longer breaks the promise.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { sleep } from "../helpers/util.ts";

describe("CLI: guardrails bind local agents (issue 23)", () => {
  let s: Sandbox;
  const P = "guard";
  const as = (agent: string, extra: Record<string, string> = {}) => ({ env: { WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: P, ...extra } });
  const newWo = (title: string, ...flags: string[]): string => String(s.run(["create", "--title", title, ...flags, "--json"], as("obs")).json.id);

  before(() => {
    s = sandbox();
    s.run(["init", "-p", P], { env: { WORKLEDGER_AGENT: "obs" } });
  });
  after(() => s.cleanup());

  it("a local caller is an agent: policy and caps need --as-admin (or WORKLEDGER_ROLE=admin), and whoami says which", () => {
    const id = newWo("capped");
    assert.equal(s.run(["whoami", "--json"], as("bob")).json.role, "agent");
    assert.equal(s.run(["whoami", "--as-admin", "--json"], as("bob")).json.role, "admin");
    const refused = s.run(["project", "set", P, "--max-attempts", "9", "--json"], as("bob"));
    assert.equal(refused.code, 9);
    assert.equal(refused.json.error.code, "FORBIDDEN");
    assert.equal(s.run(["update", "--id", id, "--max-attempts", "9"], as("bob")).code, 9);
    const raised = s.run(["update", "--id", id, "--max-attempts", "9", "--json"], as("root", { WORKLEDGER_ROLE: "admin" }));
    assert.equal(raised.code, 0, raised.stdout);
    const event = s.run(["history", "--id", id, "--json"], as("root")).json.at(-1);
    assert.deepEqual([event.type, event.data.admin], ["updated", true]);
  });

  it("init -p and project create refuse a near miss of an existing project unless --new-project (issue 23, fourth trial)", () => {
    for (const args of [
      ["init", "-p", "gaurd"],
      ["project", "create", "gaurd"],
    ]) {
      const r = s.run([...args, "--json"], as("carol"));
      assert.equal(r.code, 4, r.stdout);
      assert.match(r.json.error.message, /did you mean guard\?/);
    }
    assert.equal(s.run(["project", "create", "gaurd", "--new-project", "--json"], as("carol")).json.created, true);
  });

  it("an agent cannot mint itself a token (and so an admin identity): token create, list and revoke are for admins (issue 23, third trial)", () => {
    const minted = s.run(["token", "create", "--agent", "erin", "--role", "admin", "--json"], as("erin"));
    assert.equal(minted.code, 9, minted.stdout);
    assert.equal(minted.json.error.code, "FORBIDDEN");
    assert.equal(s.run(["token", "list"], as("erin")).code, 9);
    const made = s.run(["token", "create", "--as-admin", "--agent", "erin", "--role", "agent", "--json"], as("root"));
    assert.equal(made.code, 0, made.stderr);
    assert.equal(s.run(["token", "revoke", made.json.id], as("erin")).code, 9);
    assert.equal(s.run(["token", "revoke", made.json.id, "--as-admin"], as("root")).code, 0);
  });

  it("verify by someone who does not hold the WO is refused before anything runs, and nothing is recorded", () => {
    const marker = `${s.dir}/ran-${Date.now()}`;
    const id = newWo("held by carol", "--verification", `touch ${marker}`);
    assert.equal(s.run(["claim", "--id", id], as("carol")).code, 0);
    const r = s.run(["verify", "--id", id, "--json"], as("bob"));
    assert.equal(r.code, 3);
    assert.equal(r.json.error.code, "LEASE_HELD");
    assert.equal(s.run(["get", "--id", id, "--json"], as("bob")).json.notes.length, 0);
    assert.equal(s.run(["release", "--id", id], as("carol")).code, 0);
    const free = s.run(["verify", "--id", id, "--json"], as("bob"));
    assert.equal(free.json.error.code, "NOT_HOLDER");
    assert.match(free.json.error.hint, /claim/);
    assert.equal(s.run(["verify", "--id", id], as("carol")).code, 5, "carol's lease ended with her release");
    assert.equal(existsSync(marker), false, "the command never ran");
  });

  it("a lapsed holder's note and linked context are refused after carol took over and finished; carol's handover stays the newest", async () => {
    const id = newWo("taken over");
    assert.equal(s.run(["claim", "--id", id, "--ttl", "1s"], as("bob")).code, 0);
    await sleep(1200);
    assert.equal(s.run(["claim", "--id", id], as("carol")).code, 0);
    assert.equal(s.run(["context-put", "--id", id, "-m", "carol: fixed it"], as("carol")).code, 0);
    assert.equal(s.run(["release", "--id", id, "--status", "done"], as("carol")).code, 0);
    const note = s.run(["add-note", "--id", id, "-m", "Writing LICENSE now.", "--json"], as("bob"));
    assert.equal(note.code, 5);
    assert.equal(note.json.error.code, "LEASE_LOST");
    assert.equal(s.run(["context-put", "--id", id, "-m", `WO${id} done by bob`], as("bob")).code, 5);
    const got = s.run(["get", "--id", id, "--json"], as("bob")).json;
    assert.equal(got.context.linked.body, "carol: fixed it");
    assert.equal(s.run(["context-pull", "--json"], as("bob")).json.entries[0].agent, "carol");
  });

  it("done right after a FAILED verify is refused with exit 6; done by someone without the lease is NOT_HOLDER", () => {
    const id = newWo("broken", "--verification", "false");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    assert.equal(s.run(["verify", "--id", id], as("bob")).code, 6);
    const done = s.run(["release", "--id", id, "--status", "done", "--json"], as("bob"));
    assert.equal(done.code, 6);
    assert.equal(done.json.error.code, "VERIFICATION_REQUIRED");
    assert.equal(s.run(["release", "--id", id, "--status", "blocked", "--note", "false fails"], as("bob")).code, 0);

    const dep = newWo("first");
    const free = newWo("second", "--depends-on", dep);
    const r = s.run(["update", "--id", free, "--status", "done", "--json"], as("dave"));
    assert.equal(r.code, 3);
    assert.equal(r.json.error.code, "NOT_HOLDER");
    assert.equal(s.run(["get", "--id", free, "--json"], as("dave")).json.status, "open");
  });

  it("the seed's release then update --status done still works, and a retried release with the same key answers the first result", () => {
    const id = newWo("two steps");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    assert.equal(s.run(["release", "--id", id], as("bob")).code, 0);
    const done = s.run(["update", "--id", id, "--status", "done", "--json"], as("bob"));
    assert.deepEqual([done.code, done.json.status, done.json.warnings], [0, "done", [`WO-${id} is done without a passing verification: it has no verification command`]]);

    const again = newWo("retried");
    assert.equal(s.run(["claim", "--id", again], as("bob")).code, 0);
    const first = s.run(["release", "--id", again, "--status", "done", "--idempotency-key", "r1", "--json"], as("bob"));
    const second = s.run(["release", "--id", again, "--status", "done", "--idempotency-key", "r1", "--json"], as("bob"));
    assert.equal(first.code, 0, first.stdout);
    assert.equal(second.code, 0, second.stdout);
    assert.deepEqual(second.json, first.json);
  });

  it("a verify retried with the same key answers the first result and runs nothing again; another WO's retry with it is refused (thirty-first trials)", () => {
    const runs = `${s.dir}/verify-runs.log`;
    const id = newWo("verified once", "--verification", `echo run >> ${runs}; test $(wc -l < ${runs}) -lt 2`);
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const first = s.run(["verify", "--id", id, "--idempotency-key", "v1", "--json"], as("bob", { WORKLEDGER_UNSHARE: "/nonexistent" }));
    // (Where the command's writes stay, so its log can be read.)
    const second = s.run(["verify", "--id", id, "--idempotency-key", "v1", "--json"], as("bob", { WORKLEDGER_UNSHARE: "/nonexistent" }));
    assert.equal(first.json.passed, true, first.stdout + first.stderr);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual(second.json, first.json);
    assert.equal(readFileSync(runs, "utf8"), "run\n", "the command ran once");
    mkdirSync(`${s.dir}/elsewhere`);
    const elsewhere = s.run(["verify", "--id", id, "--idempotency-key", "v1", "--dir", `${s.dir}/elsewhere`, "--json"], as("bob"));
    assert.equal(elsewhere.json.error.code, "IDEMPOTENCY_MISMATCH", "the same key in another directory is another request");
    const other = newWo("another");
    assert.equal(s.run(["claim", "--id", other], as("bob")).code, 0);
    const mismatch = s.run(["verify", "--id", other, "--idempotency-key", "v1", "--json"], as("bob"));
    assert.equal(mismatch.json.error.code, "IDEMPOTENCY_MISMATCH", mismatch.stdout);
    const note = s.run(["add-note", "--id", id, "-m", "x", "--idempotency-key", "v1", "--json"], as("bob"));
    assert.match(note.json.error.message, /for another kind of write \(recordVerification\)/);
  });

  it("messages: one create names its fields as given, no context gives a hint, doctor is healthy on a fresh ledger, --new-project is a switch", () => {
    const bad = s.run(["create", "--title", "x", "--priority", "P9", "--json"], as("obs"));
    assert.equal(bad.code, 2);
    assert.deepEqual(
      bad.json.error.details.issues.map((i: { field: string }) => i.field),
      ["priority"],
    );
    assert.match(bad.json.error.message, /^priority: must be one of P0/);
    const pulled = s.run(["context-pull", "--key", "nothing-here", "--json"], as("bob"));
    assert.deepEqual([pulled.code, pulled.json.verdict], [0, "none"]);
    assert.match(pulled.json.hint, /nothing was handed over/);
    const fresh = sandbox();
    try {
      const doctor = fresh.run(["doctor", "--json"], { env: { WORKLEDGER_AGENT: "bob", WORKLEDGER_PROJECT: "brand-new" } });
      assert.equal(doctor.code, 0, doctor.stdout);
      assert.equal(doctor.json.ok, true);
    } finally {
      fresh.cleanup();
    }
    const typo = s.run(["create", "-p", "guarf", "--title", "x", "--json"], as("obs"));
    assert.equal(typo.code, 4);
    assert.match(typo.json.error.hint, /repeat with --new-project$/);
  });

  it("verify names the directory it ran in, runs in --dir when given, and refuses one that does not exist", () => {
    const id = newWo("checks a file", "--verification", "test -f marker.txt");
    const tree = `${s.dir}/tree`;
    mkdirSync(tree);
    writeFileSync(`${tree}/marker.txt`, "");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const here = s.run(["verify", "--id", id, "--json"], as("bob"));
    assert.deepEqual([here.code, here.json.passed, here.json.dir], [6, false, s.dir]);
    const there = s.run(["verify", "--id", id, "--dir", tree, "--json"], as("bob"));
    assert.deepEqual([there.code, there.json.passed, there.json.dir], [0, true, tree]);
    assert.match(there.json.note.body, new RegExp(`in ${tree}: test -f marker.txt`));
    const nowhere = s.run(["verify", "--id", id, "--dir", `${s.dir}/nope`, "--json"], as("bob"));
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.json.error.message, /^dir: .*nope is not a directory/);
  });

  it("a pass outside git or in another repository does not verify a done declared from the work's repository: it warns and marks it unverified (thirty-fourth trials)", () => {
    const repoAt = (dir: string, marker: boolean) => {
      mkdirSync(dir);
      if (marker) writeFileSync(`${dir}/marker.txt`, "");
      execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dir });
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start"], { cwd: dir });
    };
    const repo = `${s.dir}/work-repo`;
    const other = `${s.dir}/other-repo`;
    const scratch = `${s.dir}/scratch`;
    repoAt(repo, false);
    repoAt(other, true);
    mkdirSync(scratch);
    writeFileSync(`${scratch}/marker.txt`, "");
    for (const [dir, said] of [
      [scratch, "outside git"],
      [other, `in another repository \\(${other}\\)`],
    ] as const) {
      const id = newWo(`passes elsewhere: ${said}`, "--verification", "test -f marker.txt");
      assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
      assert.equal(s.run(["verify", "--id", id, "--dir", dir, "--json"], as("bob")).json.passed, true);
      const done = s.run(["release", "--id", id, "--status", "done", "--json"], { ...as("bob"), cwd: repo });
      assert.equal(done.code, 0, done.stderr);
      assert.match(
        (done.json.warnings as string[]).join("\n"),
        new RegExp(`is done without a passing verification: its passing verification ran in ${dir}, ${said}, not in the repository you finish it from \\(${repo}\\)`),
      );
      const events = s.run(["history", "--id", id, "--json"], as("bob")).json as { data: { status?: string; unverified?: boolean } }[];
      assert.equal(events.find((e) => e.data.status === "done")?.data.unverified, true, JSON.stringify(events));
    }
    // A detached checkout of the repository is a commit, not work on a branch (thirty-fifth trials).
    execFileSync("git", ["worktree", "add", "-q", "--detach", `${s.dir}/detached`, "main"], { cwd: other });
    const detachedWo = newWo("passes detached", "--verification", "true");
    assert.equal(s.run(["claim", "--id", detachedWo], as("bob")).code, 0);
    assert.equal(s.run(["verify", "--id", detachedWo, "--dir", `${s.dir}/detached`, "--json"], as("bob")).json.passed, true);
    const fromThere = s.run(["release", "--id", detachedWo, "--status", "done", "--json"], { ...as("bob"), cwd: other });
    assert.match((fromThere.json.warnings as string[]).join("\n"), /its passing verification ran on a detached HEAD \([0-9a-f]{12} in .*detached\), a checkout of a commit/);
    // So is a branch that is neither the WO's nor the one it is finished on (thirty-sixth trials).
    execFileSync("git", ["branch", "side"], { cwd: other });
    execFileSync("git", ["worktree", "add", "-q", `${s.dir}/side`, "side"], { cwd: other });
    const sideWo = newWo("passes on a side branch", "--verification", "true");
    assert.equal(s.run(["claim", "--id", sideWo], as("bob")).code, 0);
    assert.equal(s.run(["branch", "--id", sideWo], { ...as("bob"), cwd: other }).code, 0);
    assert.equal(s.run(["verify", "--id", sideWo, "--dir", `${s.dir}/side`, "--json"], as("bob")).json.passed, true);
    const fromMain = s.run(["release", "--id", sideWo, "--status", "done", "--json"], { ...as("bob"), cwd: other });
    assert.match((fromMain.json.warnings as string[]).join("\n"), /its passing verification ran on side in .*side, not on its branch wo\/\d+-passes-on-a-side-branch/);
    // A pass in the repository it is finished from counts, as ever.
    writeFileSync(`${repo}/marker.txt`, "");
    execFileSync("git", ["add", "marker.txt"], { cwd: repo });
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "marker"], { cwd: repo });
    const id = newWo("passes here", "--verification", "test -f marker.txt");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    assert.equal(s.run(["verify", "--id", id, "--json"], { ...as("bob"), cwd: repo }).json.passed, true);
    const done = s.run(["release", "--id", id, "--status", "done", "--json"], { ...as("bob"), cwd: repo });
    assert.deepEqual([done.code, done.json.warnings], [0, undefined], done.stderr);
  });

  it("what a trial found: the generic recipe watches its shell ($$), whoami answers before a project's first write, claim --next suggests a near-miss project, verify says when the lease really expired", async () => {
    const recipe = s.run(["agent-setup", "--client", "generic", "--print", "--json"], as("bob")).json;
    const script = Object.entries(recipe.files as Record<string, string>).find(([path]) => path.endsWith("workledger-session.sh"))![1];
    assert.match(script, /keepalive --pid \$\$ /);
    const me = s.run(["whoami", "-p", "brand-new", "--json"], as("bob"));
    assert.deepEqual([me.code, me.json.project], [0, "brand-new"]);
    const typo = s.run(["claim", "--next", "-p", "guarx", "--json"], as("bob"));
    assert.equal(typo.code, 4);
    assert.match(typo.json.error.message, /did you mean guard\?/);
    const id = newWo("lapses", "--verification", "true");
    // whoami lists its leases in every project, not only the one it is asked about (seventeenth trials).
    const held = newWo("held while asking elsewhere");
    const kept = s.run(["claim", "--id", held, "--json"], as("bob")).json;
    const leases = s.run(["whoami", "-p", "brand-new", "--json"], as("bob")).json.leases as { project: string; id: number }[];
    assert.ok(
      leases.some((l) => l.project === kept.project && l.id === Number(held)),
      JSON.stringify(leases),
    );
    const claim = s.run(["claim", "--id", id, "--ttl", "1s", "--json"], as("bob")).json;
    await sleep(1500);
    const late = s.run(["verify", "--id", id, "--json"], as("bob"));
    assert.equal(late.code, 5);
    assert.match(late.json.error.message, new RegExp(`expired at ${claim.lease.expires_at.replace(/\./g, "\\.")}`)); // whoami names the lease it lost (session 19 known item: it listed none and said nothing).
    const lost = s.run(["whoami"], as("bob")).stdout;
    assert.match(lost, new RegExp(`lost WO-${id} in guard \\(token ${claim.lease.token}\\) .*: its lease expired unrenewed`));
  });
});
