/**
 * Issue 23 through `workledger mcp` (the real server over stdio) on a local
 * ledger: what the MCP-only trial did no longer breaks the promise.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { connectMcp } from "../helpers/mcp.ts";
import { sleep } from "../helpers/util.ts";

describe("MCP: guardrails bind local agents (issue 23)", () => {
  let s: Sandbox;
  const P = "mcpg";
  const open: Client[] = [];

  // A person's shell may say admin; the MCP server never takes it from there.
  const connect = async (agent: string, env: Record<string, string> = { WORKLEDGER_PROJECT: P }) => {
    const session = await connectMcp(s, agent, { WORKLEDGER_ROLE: "admin", ...env });
    open.push(session.client);
    return session;
  };
  const cli = (agent: string, args: string[]) => s.run([...args, "--json"], { env: { WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: P, WORKLEDGER_TOKEN_MEMORY: "off" } });
  const newWo = (title: string, ...flags: string[]): number => cli("obs", ["create", "--title", title, ...flags]).json.id;

  before(() => {
    s = sandbox();
    s.run(["init", "-p", P], { env: { WORKLEDGER_AGENT: "obs" } });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    s.cleanup();
  });

  it("the server's caller is an agent even when its environment says admin: no caps, no others' verify", async () => {
    const dave = await connect("dave");
    const me = await dave.call("whoami");
    assert.equal(me.body.role, "agent", JSON.stringify(me.body));
    const id = newWo("carol's", "--verification", "true");
    assert.equal(cli("carol", ["claim", "--id", String(id)]).code, 0);
    const v = await dave.call("verify", { id });
    assert.equal(v.body.error.code, "LEASE_HELD");
    assert.equal(cli("dave", ["get", "--id", String(id)]).json.notes.length, 0);
    const done = await dave.call("update", { id: newWo("free"), status: "done" });
    assert.equal(done.body.error.code, "NOT_HOLDER");
    assert.match(done.body.error.hint, /claim/);
  });

  it("a paused session whose lease passed to another agent cannot write a note on it", async () => {
    const id = newWo("taken over");
    const dave = await connect("dave-paused");
    assert.equal((await dave.call("claim", { id, ttl: "1s" })).isError, false);
    const pid = (dave.transport as unknown as { pid: number | null }).pid!;
    process.kill(pid, "SIGSTOP");
    await sleep(1500);
    assert.equal(cli("carol", ["claim", "--id", String(id)]).code, 0);
    process.kill(pid, "SIGCONT");
    const note = await dave.call("add_note", { id, body: "Writing LICENSE now." });
    assert.equal(note.body.error.code, "LEASE_LOST");
    const ctx = await dave.call("context_put", { id, body: "done by dave" });
    assert.equal(ctx.body.error.code, "LEASE_LOST");
    assert.equal(cli("carol", ["get", "--id", String(id)]).json.notes.length, 0);
  });

  it("done right after a failed verify is refused, with what to do", async () => {
    const id = newWo("broken", "--verification", "false");
    const erin = await connect("erin");
    await erin.call("claim", { id });
    assert.equal((await erin.call("verify", { id })).body.passed, false);
    const r = await erin.call("release", { id, status: "done" });
    assert.equal(r.body.error.code, "VERIFICATION_REQUIRED");
    assert.match(r.body.error.hint, /status=blocked/);
  });

  it("without a default project the schemas require one; with WORKLEDGER_PROJECT it is taken from there", async () => {
    const bare = await connect("fay", {});
    const tools = (await bare.client.listTools()).tools;
    const required = (name: string) => (tools.find((t) => t.name === name)?.inputSchema as { required?: string[] }).required ?? [];
    assert.ok(required("claim").includes("project"));
    assert.ok(required("context_pull").includes("project"));
    assert.ok(!required("projects").includes("project"));
    const withDefault = await connect("fay");
    const listed = (await withDefault.client.listTools()).tools.find((t) => t.name === "claim")?.inputSchema as { required?: string[] };
    assert.ok(!(listed.required ?? []).includes("project"));
    assert.equal((await withDefault.call("find_unclaimed")).isError, false);
  });

  it("messages: a ttl without a unit offers 90s and 90m; an unknown argument lists the valid ones; one create's bad field is named as given", async () => {
    const gus = await connect("gus");
    const tooLong = await gus.call("claim", { next: true, ttl: "30d" });
    assert.match(tooLong.body.error.message, /ttl: must be a duration between 1s and 7d/, "a session's liveness TTL does not hide a bad one");
    const ttl = await gus.call("claim", { next: true, ttl: "90" });
    assert.match(ttl.body.error.message, /did you mean 90s or 90m\?/);
    const unknown = await gus.call("claim", { next: true, tll: "90s" });
    assert.equal(unknown.body.error.details.issues[0].field, "tll");
    assert.match(unknown.body.error.message, /valid: project, id, next, ttl/);
    const bad = await gus.call("create", { title: "x", priority: "P9" });
    assert.equal(bad.body.error.details.issues[0].field, "priority");
    // Tenth MCP trial: no title said "items: required"; a single item's #5 said "may name #1 to #0".
    const untitled = await gus.call("create", { description: "forgot the title" });
    assert.equal(untitled.body.error.details.issues[0].field, "title");
    const batchRef = await gus.call("create", { title: "x", depends_on: ["#5"] });
    assert.match(
      batchRef.body.error.message,
      /^depends_on: #5 is not an earlier item of this batch: no item comes before this one \(a single work order depends on existing ones, by id\)/,
    );
    const none = await gus.call("context_pull", { key: "nothing" });
    const id = newWo("verified somewhere", "--verification", "true");
    await gus.call("claim", { id });
    const v = await gus.call("verify", { id, dir: s.dir });
    assert.deepEqual([v.body.passed, v.body.dir], [true, s.dir]);
    assert.match(none.body.hint, /nothing was handed over/);
    // About a work order: no template left unrendered in a result's hint (seventeenth MCP trial).
    const aboutWo = await gus.call("context_pull", { id });
    assert.match(aboutWo.body.hint, /getting the work order also shows what the work orders it depends on handed over/);
    assert.doesNotMatch(aboutWo.body.hint, /\{\{/);
  });

  it("messages (twentieth MCP trial): a WO of another project names it; checkpoint names no argument the tool lacks; a shared branch's hint names the command a person runs", async () => {
    const ida = await connect("ida");
    const other = cli("obs", ["create", "--project", "mcpg-other", "--title", "elsewhere", "--new-project"]).json.id as number;
    const done = await ida.call("update", { project: "mcpg-other", id: other, status: "done" });
    assert.equal(done.body.error.code, "NOT_HOLDER");
    assert.match(done.body.error.message, /\(project mcpg-other\)$/);
    assert.match(done.body.error.hint, new RegExp(`WO-${other} is in project mcpg-other, not ${P}: give project=mcpg-other with each call about it`));
    // One dependency named three ways is one (twenty-first MCP trial: [19,19,19]).
    const dep = newWo("dep");
    const dup = await ida.call("create", { title: "needs dep", depends_on: [`WO-${dep}`, `wo-${dep}`, String(dep)] });
    assert.deepEqual(dup.body[0].depends_on, [dep], JSON.stringify(dup.body));
    // Holding that id in another project, "claim it first" says which (twenty-second MCP trial).
    const k = cli("obs", ["create", "--project", "mcpg-other", "--title", "held there"]).json.id as number;
    while (newWo("filler") < k);
    assert.equal((await ida.call("claim", { project: "mcpg-other", id: k })).isError, false);
    const wrong = await ida.call("verify", { id: k });
    assert.equal(wrong.body.error.code, "NOT_HOLDER", JSON.stringify(wrong.body));
    assert.match(wrong.body.error.hint, new RegExp(`you hold WO-${k} of project mcpg-other, not of ${P}: give project=mcpg-other`));
    // In the session's own project nothing is added.
    const own = await ida.call("update", { id: newWo("here"), status: "done" });
    assert.doesNotMatch(own.body.error.hint, /is in project/);

    // Two projects whose WO-1 have one branch name: the hint says what a person does, in no CLI flag.
    const repo = join(s.dir, "twins");
    mkdirSync(repo);
    for (const args of [
      ["init", "-q", "-b", "main"],
      ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "start"],
    ])
      execFileSync("git", args, { cwd: repo });
    for (const p of ["twin-a", "twin-b"]) cli("obs", ["create", "--project", p, "--title", "Twin", "--new-project"]);
    // The session's project made its WO-1 second: the branch name is twin-a's.
    const twin = await connectMcp(s, "ida", { WORKLEDGER_PROJECT: "twin-b" }, repo);
    open.push(twin.client);
    assert.equal(cli("ida", ["claim", "--project", "twin-a", "--id", "1"]).code, 0);
    assert.equal((await twin.call("claim", { id: 1 })).isError, false);
    // No worktree yet: checkpoint is refused, naming no `dir` (the server chooses where it runs).
    const cp = await twin.call("checkpoint", { id: 1, message: "x" });
    assert.match(cp.body.error.message, /your worktree for WO-1 does not exist/);
    assert.equal(cp.body.error.details.issues, undefined, JSON.stringify(cp.body.error));
    const wt = await twin.call("worktree", { id: 1 });
    assert.match(wt.body.error.message, /wo\/1-twin is also the branch of twin-a#1/);
    // A setting only a person changes is named as the command that person runs, flags and all (twenty-fourth MCP trial).
    assert.match(wt.body.error.hint, /\(workledger project set --branch-prefix\), .*ask a person to run it/);
  });

  it("a worktree made over MCP makes the git hooks of the model's own shell find this ledger; outside a repository it says where the server works (twenty-second trials)", async () => {
    const stray = await connect("joe");
    const id = newWo("pinned");
    assert.equal((await stray.call("claim", { id })).isError, false);
    const nowhere = await stray.call("worktree", { id });
    assert.match(nowhere.body.error.message, /is not in a git repository/);
    assert.match(nowhere.body.error.hint, /this server works in .+, which is no git repository: start workledger mcp in the work order's repository/);
    assert.doesNotMatch(nowhere.body.error.hint, /\bdir\b/, "the tool takes no dir");
    await stray.client.close();

    const repo = join(s.dir, "pinned");
    mkdirSync(repo);
    const gitIn = (cwd: string, env: Record<string, string | undefined>, ...args: string[]) =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd, env: env as NodeJS.ProcessEnv, encoding: "utf8" }).trim();
    gitIn(repo, process.env, "init", "-q", "-b", "main");
    gitIn(repo, process.env, "commit", "-q", "--allow-empty", "-m", "start");
    assert.equal(s.run(["git-hooks", "install"], { cwd: repo }).code, 0);
    const joe = await connectMcp(s, "joe", { WORKLEDGER_PROJECT: P }, repo);
    open.push(joe.client);
    const made = await joe.call("worktree", { id });
    assert.equal(made.isError, false, JSON.stringify(made.body));
    assert.match(made.body.warnings.join("\n"), /wrote .+\/pinned\/\.workledger naming this ledger, so git hooks run from a shell without WORKLEDGER_DB use it/);
    // The model's shell: none of the server's settings, another home.
    const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WORKLEDGER_")));
    gitIn(made.body.path, { ...shell, HOME: join(s.dir, "elsewhere") }, "commit", "-q", "--allow-empty", "-m", "from a plain shell");
    const tip = gitIn(made.body.path, process.env, "rev-parse", "HEAD");
    assert.equal(cli("obs", ["get", "--id", String(id)]).json.checkpoints.at(-1)?.commit, tip, "the hook recorded it in this ledger");
    assert.equal((await joe.call("worktree", { id })).body.warnings, undefined, "said once");
  });

  it("verify runs without the session's secrets and names its sandbox; a project's trusted authors bind it, trust runs one anyway (issue 24)", async () => {
    const id = newWo("leaky", "--verification", 'test -z "$WORKLEDGER_AGENT$WORKLEDGER_TOKEN"');
    const hal = await connect("hal", { WORKLEDGER_PROJECT: P, WORKLEDGER_TOKEN: "wl_secret" });
    await hal.call("claim", { id });
    const ran = await hal.call("verify", { id, dir: s.dir });
    assert.equal(ran.body.passed, true, JSON.stringify(ran.body));
    assert.match(ran.body.sandbox, /^(bwrap|none)$/);
    assert.ok(ran.body.env_removed.includes("WORKLEDGER_TOKEN"));
    assert.equal(s.run(["project", "set", P, "--trusted-authors", "root"], { env: { WORKLEDGER_AGENT: "root", WORKLEDGER_ROLE: "admin" } }).code, 0);
    try {
      const refused = await hal.call("verify", { id, dir: s.dir });
      assert.deepEqual([refused.isError, refused.body.error.code], [true, "UNTRUSTED_VERIFICATION"]);
      assert.match(refused.body.error.hint, /trust/);
      assert.equal((await hal.call("verify", { id, dir: s.dir, trust: true })).body.passed, true);
    } finally {
      s.run(["project", "set", P, "--trusted-authors", "none"], { env: { WORKLEDGER_AGENT: "root", WORKLEDGER_ROLE: "admin" } });
    }
  });

  // A minute of waiting on the machine's Node; the other lines (.ci/node-lines.sh) run no Node-specific code in it.
  const lineSubset = process.env.WORKLEDGER_NODE_LINE ? "a minute of waiting, run on the machine's Node line" : false;
  it("a session SIGKILLed right after a claim with the default TTL, and one that exits cleanly, both let their WOs go within 90s", { skip: lineSubset }, async () => {
    const [a, b] = [newWo("killed session"), newWo("closed session")];
    const killed = await connect("killed");
    const closed = await connect("closed");
    const held = (await killed.call("claim", { id: a })).body;
    assert.equal(Date.parse(held.lease.expires_at) - Date.parse(held.lease.claimed_at), 60_000, "held with the liveness TTL, not 30m");
    assert.match(
      held.kept_alive,
      /60s at a time \(or the shorter ttl you asked for\) and renews it after a third of that \(every 20s\)/,
      "and the result says so (a trial took it for its ttl silently cut)",
    );
    assert.equal((await closed.call("claim", { id: b })).isError, false);
    process.kill((killed.transport as unknown as { pid: number }).pid, "SIGKILL");
    await closed.client.close();
    const started = Date.now();
    const free = new Set<number>();
    while (free.size < 2 && Date.now() - started < 90_000) {
      for (const id of [a, b]) if (!free.has(id) && cli("next-agent", ["claim", "--id", String(id)]).code === 0) free.add(id);
      if (free.size < 2) await sleep(2000);
    }
    assert.equal(free.size, 2, `claimable after ${Date.now() - started} ms`);
  });

  it("the keep-alive's renewals are recorded on the WO, not in the event log", async () => {
    const id = newWo("kept");
    const hank = await connect("hank");
    await hank.call("claim", { id, ttl: "2s" });
    await sleep(3000);
    const wo = cli("hank", ["get", "--id", String(id)]).json;
    assert.equal(wo.lease?.agent, "hank", "still held");
    assert.notEqual(wo.lease.renewed_at, null);
    const types = cli("hank", ["history", "--id", String(id)]).json.map((e: { type: string }) => e.type);
    assert.deepEqual(types, ["created", "claimed"]);
  });
});
