/** The real built binary against a temporary ledger: stdout JSON and exit codes for every command. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { latestVersion } from "../../src/storage/sqlite/migrate.ts";

describe("CLI", () => {
  let s: Sandbox;
  const as = (agent: string) => ({ WORKLEDGER_AGENT: agent });
  before(() => {
    s = sandbox();
  });
  after(() => s.cleanup());

  it("init creates the ledger and prints where it is", () => {
    const r = s.run(["init", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { db: s.db, store: "sqlite", schema_version: latestVersion(), config: null });
    assert.match(s.run(["init", "-p", "ancc", "--agent", "obs"]).stdout, /ledger ready at .*project ancc/);
  });

  it("--help on every command and --version", () => {
    const version = s.run(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    for (const cmd of [
      "init",
      "doctor",
      "projects",
      "create",
      "get",
      "show",
      "list",
      "find-unclaimed",
      "claim",
      "renew",
      "release",
      "update",
      "add-note",
      "verify",
      "context-put",
      "context-pull",
      "history",
      "demo",
    ]) {
      const r = s.run([cmd, "--help"]);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, /Usage: workledger/, cmd);
    }
    assert.equal(s.run(["project", "create", "--help"]).code, 0);
  });

  it("skill prints the SKILL.md it ships, and --reference the reference it links to (twenty-seventh trials)", () => {
    assert.equal(s.run(["skill"]).stdout.trimEnd(), readFileSync("SKILL.md", "utf8").trimEnd());
    assert.equal(s.run(["skill", "--reference", "--json"]).json.text, readFileSync("SKILL-REFERENCE.md", "utf8"));
  });

  it("create from flags prints the WO; every field flag lands", () => {
    const r = s.run([
      "create",
      "--project",
      "ancc",
      "--agent",
      "obs",
      "--json",
      "--title",
      "Fix tokenizer",
      "--description",
      "desc",
      "--repo",
      "org/ancc",
      "--acceptance",
      "parses a, b",
      "--acceptance",
      "no regressions",
      "--scope",
      "tokenizer only",
      "--file",
      "src/tok/**",
      "--file",
      "test/tok.ts",
      "--verification",
      "exit 0",
      "--priority",
      "p1",
      "--handover",
      "see notes",
      "--label",
      "bug,parser",
      "--label",
      "p",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const wo = r.json;
    assert.equal(wo.id, 1);
    assert.deepEqual(
      [wo.title, wo.description, wo.repo, wo.acceptance, wo.scope, wo.files, wo.verification, wo.priority, wo.handover, wo.labels, wo.status],
      [
        "Fix tokenizer",
        "desc",
        "org/ancc",
        ["parses a, b", "no regressions"],
        "tokenizer only",
        ["src/tok/**", "test/tok.ts"],
        "exit 0",
        "P1",
        "see notes",
        ["bug", "parser", "p"],
        "open",
      ],
    );
    const dep = s.run(["create", "-p", "ancc", "--agent", "obs", "--json", "--title", "Then this", "--depends-on", "WO-1"]);
    assert.deepEqual(dep.json.depends_on, [1]);
  });

  it("create --from FILE and stdin is a batch that prints an array; bad batches write nothing", () => {
    const file = join(s.dir, "batch.json");
    writeFileSync(file, JSON.stringify([{ title: "api" }, { title: "web", priority: "P0", files: ["web/**"] }]));
    const r = s.run(["create", "-p", "ancc", "--agent", "obs", "--json", "--from", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.map((w: { id: number }) => w.id),
      [3, 4],
    );
    const stdin = s.run(["create", "-p", "ancc", "--agent", "obs", "--json", "--from", "-"], { input: '[{"title":"from stdin"}]' });
    assert.deepEqual(
      stdin.json.map((w: { title: string }) => w.title),
      ["from stdin"],
    );
    const count = () => s.run(["list", "-p", "ancc", "--status", "all", "--json"]).json.length;
    const before = count();
    for (const bad of ['[{"title":"ok"},{"title":""}]', "not json", '[{"title":"x","priority":"P9"}]', "[]", '[{"title":"x","bogus":1}]']) {
      const b = s.run(["create", "-p", "ancc", "--agent", "obs", "--json", "--from", "-"], { input: bad });
      assert.equal(b.code, 2, bad);
      assert.equal(b.json.error.code, "VALIDATION", bad);
    }
    assert.equal(s.run(["create", "-p", "ancc", "--agent", "obs", "--from", join(s.dir, "missing.json")]).code, 2);
    assert.equal(count(), before);
  });

  it("add-note and context-put take --body (the field's name in JSON, what agents guess) like -m; both at once must agree", () => {
    assert.equal(s.run(["create", "-p", "guess", "--agent", "obs", "--title", "t"]).code, 0);
    const note = s.run(["add-note", "-p", "guess", "--agent", "ann", "--id", "1", "--body", "guessed", "--json"]);
    assert.equal(note.code, 0, note.stderr);
    assert.equal(note.json.body, "guessed");
    const ctx = s.run(["context-put", "-p", "guess", "--agent", "ann", "--body", "handed over", "--json"]);
    assert.equal(ctx.code, 0, ctx.stderr);
    assert.equal(ctx.json.body, "handed over");
    const both = s.run(["add-note", "-p", "guess", "--agent", "ann", "--id", "1", "--body", "a", "-m", "b", "--json"]);
    assert.equal(both.code, 2);
    assert.equal(both.json.error.code, "VALIDATION");
  });

  it("create --idempotency-key makes a retry return the same WOs", () => {
    const args = ["create", "-p", "idem", "--agent", "obs", "--json", "--title", "once", "--idempotency-key", "k1"];
    const a = s.run(args).json;
    const b = s.run(args).json;
    assert.equal(a.id, b.id);
    assert.equal(s.run(["list", "-p", "idem", "--json"]).json.length, 1);
  });

  it("runs the seed's commands verbatim", () => {
    // Give the seed its WO-53.
    const have = s.run(["list", "-p", "ancc", "--status", "all", "--json"]).json.length;
    s.run(["create", "-p", "ancc", "--agent", "obs", "--from", "-"], { input: JSON.stringify(Array.from({ length: 53 - have }, (_, i) => ({ title: `filler ${i}` }))) });
    assert.equal(s.run(["get", "-p", "ancc", "--id", "53", "--json"]).json.id, 53);
    const A = { ...as("agent-a"), WORKLEDGER_PROJECT: "ancc" };
    const B = { ...as("agent-b"), WORKLEDGER_PROJECT: "ancc" };
    const open = s.run(["list", "--status", "open"], { env: A });
    assert.equal(open.code, 0);
    assert.match(open.stdout, /WO-53/);
    assert.equal(s.run(["list", "--status", "claimed"], { env: A }).code, 0);
    const claim = s.run(["claim", "--project", "ancc", "--id", "53"], { env: A });
    assert.equal(claim.code, 0, claim.stderr);
    assert.match(claim.stdout, /claimed WO-53[\s\S]*expires in 30m/);
    assert.equal(s.run(["claim", "--project", "ancc", "--id", "53"], { env: B }).code, 3);
    assert.equal(s.run(["renew", "--project", "ancc", "--id", "53"], { env: A }).code, 0);
    assert.equal(s.run(["release", "--project", "ancc", "--id", "53"], { env: A }).code, 0);
    assert.equal(s.run(["update", "--project", "ancc", "--id", "53", "--status", "done"], { env: A }).code, 0);
    assert.equal(s.run(["get", "-p", "ancc", "--id", "53", "--json"]).json.status, "done");
    const put = s.run(["context-put", "--project", "chainwatch"], { env: A, input: "A's findings: RPC node 3 lags" });
    assert.equal(put.code, 0, put.stderr);
    const pull = s.run(["context-pull", "--project", "chainwatch"], { env: B });
    assert.equal(pull.code, 0);
    assert.match(pull.stdout, /A's findings: RPC node 3 lags/);
    assert.match(pull.stdout, /by agent-a/);
    assert.match(pull.stdout, /fresh/);
  });

  it("the agent loop in JSON: claim, renew, add-note, verify, release, history", () => {
    const env = { ...as("loop"), WORKLEDGER_PROJECT: "loop" };
    s.run(["create", "--title", "works", "--verification", "echo all good", "--file", "src/**"], { env });
    s.run(["create", "--title", "breaks", "--verification", "echo boom >&2; exit 3"], { env });
    const found = s.run(["find-unclaimed", "--json"], { env }).json;
    assert.deepEqual(
      found.map((w: { id: number }) => w.id),
      [1, 2],
    );
    assert.deepEqual(found[0].file_conflicts, []);
    const claimed = s.run(["claim", "--next", "--ttl", "2h", "--json"], { env }).json;
    assert.equal(claimed.id, 1);
    assert.deepEqual(claimed.file_conflicts, []);
    assert.equal(claimed.lease.agent, "loop");
    const token = String(claimed.lease.token);
    const renewed = s.run(["renew", "--id", "1", "--ttl", "90s", "--lease-token", token, "--json"], { env });
    assert.equal(renewed.code, 0, renewed.stdout);
    assert.ok(renewed.json.lease.renewed_at);
    const note = s.run(["add-note", "--id", "WO-1", "--kind", "link", "-m", "PR #12", "--json"], { env }).json;
    assert.deepEqual([note.kind, note.body, note.agent], ["link", "PR #12", "loop"]);
    const viaStdin = s.run(["add-note", "--id", "1", "--json"], { env, input: "from stdin" }).json;
    assert.equal(viaStdin.body, "from stdin");
    const ok = s.run(["verify", "--id", "1", "--json"], { env });
    assert.equal(ok.code, 0);
    assert.equal(ok.json.passed, true);
    assert.match(ok.json.note.body, /PASSED[\s\S]*all good/);
    const released = s.run(["release", "--id", "1", "--status", "done", "--note", "shipped", "--json"], { env }).json;
    assert.equal(released.status, "done");
    assert.equal(released.lease, null);
    const got = s.run(["show", "--id", "1", "--json"], { env }).json;
    assert.deepEqual(
      got.notes.map((n: { kind: string }) => n.kind),
      ["link", "progress", "verification", "progress"],
    );
    s.run(["claim", "--id", "2"], { env });
    const bad = s.run(["verify", "--id", "2", "--block-on-fail", "--json"], { env });
    assert.equal(bad.code, 6);
    assert.equal(bad.json.passed, false);
    assert.equal(bad.json.exit_code, 3);
    assert.equal(bad.json.work_order.status, "blocked");
    assert.match(bad.json.note.body, /boom/);
    // Killed at its timeout: not "FAILED (exit timeout)" but a timeout, in the note and in words (fifteenth trials).
    s.run(["create", "--title", "hangs", "--verification", "sleep 30"], { env });
    s.run(["claim", "--id", "3"], { env });
    const slow = s.run(["verify", "--id", "3", "--timeout", "1s"], { env });
    assert.equal(slow.code, 6);
    assert.match(slow.stdout, /verification TIMED OUT for WO-3 \(not a pass; --timeout gives it longer\)/);
    assert.match(s.run(["show", "--id", "3", "--json"], { env }).json.notes.at(-1).body, /^verification TIMED OUT \(not a pass\)/);
    const history = s.run(["history", "--id", "1", "--json"], { env }).json;
    assert.deepEqual(
      history.map((e: { type: string }) => e.type),
      ["created", "claimed", "renewed", "note_added", "note_added", "note_added", "released", "note_added"],
    );
    assert.ok(s.run(["history", "--json"], { env }).json.length > history.length);
    assert.match(s.run(["history", "--id", "1"], { env }).stdout, /claimed\s+loop\s+token 1/);
  });

  it("update changes fields, CAS with --if-revision, and shows diffs in history", () => {
    const env = { ...as("enricher"), WORKLEDGER_PROJECT: "enrich" };
    s.run(["create", "--title", "rough idea"], { env });
    const r = s.run(["update", "--id", "1", "--title", "Sharp title", "--acceptance", "p95 < 50ms", "--if-revision", "1", "--json"], { env });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.json.revision, 2);
    const stale = s.run(["update", "--id", "1", "--title", "again", "--if-revision", "1", "--json"], { env });
    assert.equal(stale.code, 3);
    assert.equal(stale.json.error.code, "REVISION_MISMATCH");
    assert.match(s.run(["history", "--id", "1"], { env }).stdout, /title: "rough idea" → "Sharp title"/);
    assert.equal(s.run(["update", "--id", "1", "--status", "cancelled", "--json"], { env }).json.status, "cancelled");
    assert.equal(s.run(["claim", "--id", "1", "--json"], { env }).code, 3);
    assert.equal(s.run(["update", "--id", "1", "--status", "open", "--json"], { env }).json.status, "open");
  });

  it("context-pull: JSON shape, --history array, --require-fresh exits 8 when stale", () => {
    const env = { ...as("ctx"), WORKLEDGER_PROJECT: "ctx" };
    assert.equal(s.run(["context-put", "-m", "first", "--key", "deploy"], { env }).code, 0);
    const put = s.run(["context-put", "-m", "second", "--key", "deploy", "--json"], { env }).json;
    assert.deepEqual([put.key, put.body, put.agent], ["deploy", "second", "ctx"]);
    const pull = s.run(["context-pull", "--json"], { env }).json;
    assert.equal(pull.verdict, "fresh");
    assert.deepEqual(
      pull.entries.map((e: { body: string }) => e.body),
      ["second"],
    );
    assert.equal(typeof pull.entries[0].age_ms, "number");
    const history = s.run(["context-pull", "--history", "--json"], { env }).json;
    assert.ok(Array.isArray(history));
    assert.deepEqual(
      history.map((e: { body: string }) => e.body),
      ["second", "first"],
    );
    assert.equal(s.run(["context-pull", "--require-fresh", "--json"], { env }).code, 0);
    execFileSync("sleep", ["1.1"]);
    const stale = s.run(["context-pull", "--max-age", "1s", "--require-fresh", "--json"], { env });
    assert.equal(stale.code, 8);
    assert.equal(stale.json.verdict, "stale");
  });

  it("context-put records git HEAD inside a work tree; a new commit makes it stale", () => {
    const repo = join(s.dir, "repo");
    const git = (...a: string[]) => execFileSync("git", ["-C", repo, ...a], { stdio: "ignore" });
    execFileSync("git", ["init", "-q", repo]);
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "one");
    const env = { ...as("git"), WORKLEDGER_PROJECT: "gitproj" };
    const put = s.run(["context-put", "-m", "state", "--json"], { env, cwd: repo }).json;
    assert.match(put.git.head, /^[0-9a-f]{40}$/);
    assert.equal(put.git.dirty, false);
    assert.equal(s.run(["context-pull", "--json"], { env, cwd: repo }).json.verdict, "fresh");
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "two");
    const moved = s.run(["context-pull", "--require-fresh", "--json"], { env, cwd: repo });
    assert.equal(moved.code, 8);
    assert.match(moved.json.entries[0].stale_reasons[0], /moved/);
  });

  it("projects and project create", () => {
    assert.equal(s.run(["project", "create", "fresh", "--agent", "o", "--json"]).json.created, true);
    const list = s.run(["projects", "--json"]).json;
    const ancc = list.find((p: { name: string }) => p.name === "ancc");
    assert.equal(ancc.counts.done, 1);
    assert.ok(list.some((p: { name: string }) => p.name === "fresh"));
    assert.equal(s.run(["project", "create", "Bad Name", "--agent", "o"]).code, 2);
  });

  it("doctor checks storage, identity and context freshness", () => {
    const ok = s.run(["doctor", "--json", "--agent", "doc"]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.deepEqual(
      ok.json.checks.map((c: { name: string }) => c.name),
      ["storage", "integrity", "privacy", "clock", "identity"],
    );
    const noIdentity = s.run(["doctor", "--json"]);
    assert.equal(noIdentity.code, 2);
    assert.equal(noIdentity.json.ok, false);
    const stale = s.run(["doctor", "--json", "--agent", "doc", "-p", "ctx", "--max-age", "1s"]);
    assert.equal(stale.code, 8);
    const broken = s.run(["doctor", "--json", "--agent", "doc", "--db", "/proc/nope/ledger.db"]);
    assert.equal(broken.code, 7);
    // A project nobody wrote to yet is fine (its first write makes it); a near miss of an existing one is a typo.
    const fresh = s.run(["doctor", "--agent", "doc", "-p", "no-such-project"]);
    assert.equal(fresh.code, 0, fresh.stdout);
    assert.match(fresh.stdout, /ok\s+context\s+project no-such-project has no work yet/);
    const typo = s.run(["doctor", "--agent", "doc", "-p", "ancx"]);
    assert.equal(typo.code, 4);
    assert.match(typo.stdout, /FAIL\s+context\s+project ancx does not exist; did you mean ancc\?[\s\S]*hint: projects lists the projects/);
  });

  it("human output is aligned, relative and uncoloured off a TTY", () => {
    const env = { ...as("h"), WORKLEDGER_PROJECT: "human" };
    s.run(["create", "--title", "first one"], { env });
    s.run(["create", "--title", "second", "--priority", "P0"], { env });
    s.run(["claim", "--id", "2"], { env });
    const out = s.run(["list"], { env }).stdout;
    assert.doesNotMatch(out, /\x1b\[/);
    const lines = out.trimEnd().split("\n");
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.indexOf("P2"), lines[1]!.indexOf("P0"), "columns align");
    assert.match(lines[1]!, /h, expires in 30m/);
    // `--agent` on list filters by holder (commander hands it to the global flag first).
    assert.deepEqual(
      s.run(["list", "--agent", "h", "--json"], { env }).json.map((w: { id: number }) => w.id),
      [2],
    );
    const none = s.run(["list", "--agent", "nobody", "--json"], { env });
    assert.deepEqual(none.json, []);
    // An agent passing --agent as its identity is told the empty list is a filter's.
    assert.match(none.stderr, /none held by nobody: after list, --agent filters by lease holder; drop it/);
  });
});
