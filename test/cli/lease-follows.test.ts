/** DESIGN.md §9 through the real CLI: remembered tokens, keepalive --pid, the name fence, done needs verified. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";
import { sleep, until } from "../helpers/util.ts";

describe("CLI: the lease follows the agent (issue 15)", { concurrency: true }, () => {
  let s: Sandbox;
  const P = "follow";
  const as = (agent: string, extra: Record<string, string> = {}) => ({ WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: P, ...extra });
  const newWo = (title: string, more: string[] = []): string => String(s.run(["create", "--title", title, ...more, "--json"], { env: as("obs") }).json.id);

  before(() => {
    s = sandbox();
    s.run(["init"]);
  });
  after(() => s.cleanup());

  it("remembers the claim's token in a file only the user can read, and sends it: a second machine's claim by the same agent fences the first", () => {
    const id = newWo("two machines");
    const m1 = as("same", { WORKLEDGER_STATE_DIR: join(s.dir, "m1") });
    const m2 = as("same", { WORKLEDGER_STATE_DIR: join(s.dir, "m2") });
    assert.equal(s.run(["claim", "--id", id, "--ttl", "1s", "--json"], { env: m1 }).code, 0);
    const files = readdirSync(join(s.dir, "m1"));
    assert.equal(files.length, 1);
    assert.equal(statSync(join(s.dir, "m1", files[0]!)).mode & 0o777, 0o600);
    assert.equal(statSync(join(s.dir, "m1")).mode & 0o777, 0o700);
    spawnSyncSleep(1200);
    assert.equal(s.run(["claim", "--id", id, "--json"], { env: m2 }).json.lease.token, 2);
    // "same" holds the lease, so by name machine 1 would pass; its remembered token 1 does not.
    const stale = s.run(["update", "--id", id, "--status", "done", "--json"], { env: m1 });
    assert.equal(stale.code, 5, stale.stdout);
    assert.match(stale.json.error.message, /token 1 is not the lease/);
    assert.equal(s.run(["renew", "--id", id, "--json"], { env: m1 }).code, 5, "and again: a lost token stays remembered");
    // The switch turns the memory off (then the name is all there is), and an explicit token always wins.
    assert.equal(s.run(["renew", "--id", id, "--json"], { env: { ...m1, WORKLEDGER_TOKEN_MEMORY: "off" } }).code, 0);
    assert.equal(s.run(["renew", "--id", id, "--lease-token", "2", "--json"], { env: m1 }).code, 0);
    const done = s.run(["release", "--id", id, "--status", "done", "--json"], { env: m2 });
    assert.equal(done.code, 0, done.stdout);
    assert.deepEqual(readdirSync(join(s.dir, "m2")), [], "a lease the agent ended is forgotten");
  });

  it("with no token ever passed, a lapsed holder's renew, release, status change and field edit exit 5 and say what ended the lease", () => {
    const id = newWo("lapsed");
    assert.equal(s.run(["claim", "--id", id, "--ttl", "1s"], { env: as("slow") }).code, 0);
    spawnSyncSleep(1200);
    assert.equal(s.run(["claim", "--id", id], { env: as("quick") }).code, 0);
    const off = as("slow", { WORKLEDGER_TOKEN_MEMORY: "off" }); // the fence by name, without any token
    for (const args of [["renew"], ["release", "--status", "done"], ["update", "--status", "done"], ["update", "--title", "stale"]]) {
      const r = s.run([...args, "--id", id], { env: off });
      assert.equal(r.code, 5, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /your lease \(token 1\) expired at .*; quick holds it now \(token 2/);
      assert.match(r.stderr, /hint: stop working on it/);
    }
  });

  it("done after a failed verify is refused (exit 6); without one it warns on stderr and in JSON, or is refused where the project says so", () => {
    const id = newWo("verified", ["--verification", "false"]);
    assert.equal(s.run(["claim", "--id", id], { env: as("v") }).code, 0);
    assert.equal(s.run(["verify", "--id", id], { env: as("v") }).code, 6);
    const failed = s.run(["release", "--id", id, "--status", "done", "--json"], { env: as("v") });
    assert.equal(failed.code, 6);
    assert.equal(failed.json.error.code, "VERIFICATION_REQUIRED");
    assert.match(failed.json.error.hint, /release --status blocked/);
    const unverified = newWo("unverified", ["--verification", "false"]);
    assert.equal(s.run(["claim", "--id", unverified], { env: as("v") }).code, 0);
    const warned = s.run(["release", "--id", unverified, "--status", "done", "--json"], { env: as("v") });
    assert.equal(warned.code, 0);
    assert.match(warned.json.warnings[0], /done without a passing verification: no verification was recorded/);
    assert.match(warned.stderr, /warning: WO-\d+ is done without a passing verification/);

    // Policy is an admin's: a local caller is an agent unless it asks (--as-admin, WORKLEDGER_ROLE=admin).
    assert.equal(s.run(["project", "set", P, "--require-verification", "on"], { env: as("root") }).code, 9);
    assert.equal(s.run(["project", "set", P, "--require-verification", "on", "--as-admin"], { env: as("root") }).code, 0);
    assert.match(s.run(["projects"]).stdout, /follow .* yes/);
    const strict = newWo("strict", ["--verification", "true"]);
    s.run(["claim", "--id", strict], { env: as("v") });
    const refused = s.run(["release", "--id", strict, "--status", "done"], { env: as("v") });
    assert.equal(refused.code, 6);
    assert.match(refused.stderr, /requires a passing verification under the current lease, and no verification was recorded/);
    assert.match(refused.stderr, /hint: run verify while you hold it/);
    assert.equal(s.run(["verify", "--id", strict], { env: as("v") }).code, 0);
    // That pass ran outside git: where verification is required, only one on the WO's branch counts (twenty-fifth trials).
    const outside = s.run(["release", "--id", strict, "--status", "done"], { env: as("v") });
    assert.equal(outside.code, 6, outside.stderr);
    assert.match(outside.stderr, /passed outside any git work tree .*, not on its branch .*, and project \S+ requires a pass on it/);
    s.run(["project", "set", P, "--require-verification", "off"], { env: as("root", { WORKLEDGER_ROLE: "admin" }) });
    assert.equal(s.run(["release", "--id", strict, "--status", "done"], { env: as("v") }).code, 0);
  });

  /** An agent process whose shell runs `workledger …args` after a second (inside its session once a keepalive watches it), then waits. */
  const agentRunning = (agent: string, args: string[]) =>
    spawn("sh", ["-c", 'sleep 1; "$NODE" "$CLI" "$@" >/dev/null; sleep 60', "agent", ...args], {
      stdio: "ignore",
      env: { ...process.env, ...s.env, ...as(agent), NODE: process.execPath, CLI },
    });
  const keepalive = (agent: string, pid: number) => {
    const keeper = spawn(process.execPath, [CLI, "keepalive", "--pid", String(pid)], { env: { ...process.env, ...s.env, ...as(agent) }, stdio: ["ignore", "pipe", "pipe"] });
    const out = { err: "" };
    keeper.stderr.on("data", (d: Buffer) => (out.err += d.toString()));
    return Object.assign(out, { keeper });
  };

  it("keepalive --pid renews its session's claims while the process lives (3s lease, 15s idle) and exits when it dies; the lease then lapses", async () => {
    const id = newWo("kept by pid");
    const agentProcess = agentRunning("cli-agent", ["claim", "--id", id, "--ttl", "3s"]);
    const log = keepalive("cli-agent", agentProcess.pid!);
    await sleep(15_000);
    const refused = s.run(["claim", "--id", id, "--json"], { env: as("rival") });
    assert.equal(refused.code, 3, `${refused.stdout}\n${log.err}`);
    const exited = new Promise<number | null>((r) => log.keeper.once("exit", (code) => r(code)));
    agentProcess.kill("SIGKILL");
    assert.equal(await exited, 0);
    assert.match(log.err, /keeping WO-\d+ in \S+ alive while process \d+ lives[\s\S]*ended: leases lapse after their TTL/);
    await sleep(3_200);
    assert.equal(s.run(["claim", "--id", id], { env: as("rival") }).code, 0);
  });

  it("a keepalive lets go of an idle agent's leases past the project's idle limit, saying why; an agent whose hook records each tool use keeps them (issue 25)", async () => {
    const idleProject = { WORKLEDGER_PROJECT: "idle" };
    s.run(["project", "create", "idle"], { env: as("root") });
    assert.equal(s.run(["project", "set", "idle", "--as-admin", "--idle-limit", "3s"], { env: as("root") }).code, 0);
    const [hung, busy] = ["hung", "busy"].map((t) => String(s.run(["create", "--title", t, "--json"], { env: as("obs", idleProject) }).json.id)) as [string, string];
    // The PostToolUse hook agent-setup writes for Claude Code, run as the client runs it (a shell whose parent is the agent).
    const hooks = s.run(["agent-setup", "--client", "claude", "--print", "--json"], { env: as("x") }).json.files[".claude/settings.json"];
    const touch: string = JSON.parse(hooks).hooks.PostToolUse[0].hooks[0].command;
    assert.match(touch, /^touch .*"\$PPID\.active" 2>\/dev\/null \|\| true$/);
    const agent = (name: string, id: string, working: boolean) =>
      // It claims once its keepalive has made it a session (the session file exists), however slowly that process starts.
      spawn(
        "sh",
        [
          "-c",
          `until [ -f "$WORKLEDGER_STATE_DIR/sessions/$$" ]; do sleep 0.1; done; "$NODE" "$CLI" claim --id ${id} --ttl 2s >/dev/null; while true; do ${working ? 'sh -c "$TOUCH";' : ""} sleep 0.5; done`,
        ],
        {
          stdio: "ignore",
          env: { ...process.env, ...s.env, ...as(name, idleProject), NODE: process.execPath, CLI, TOUCH: touch },
        },
      );
    const [h, b] = [agent("hung-agent", hung, false), agent("busy-agent", busy, true)];
    const [kh, kb] = [keepalive("hung-agent", h.pid!), keepalive("busy-agent", b.pid!)];
    try {
      // The keepalive says so on stderr when it ends the lease (waited for: a loaded machine starts processes slowly).
      const said = /WO-\d+ in idle went back to the pool: no activity for \d+s \(the project's idle limit is 3s\)/;
      assert.ok(await until(() => said.test(kh.err), 60_000), kh.err);
      const lost = s.run(["get", "--id", hung, "--json"], { env: as("obs", idleProject) }).json;
      assert.equal(lost.lease, null, kh.err);
      const expired = s.run(["history", "--id", hung, "--json"], { env: as("obs", idleProject) }).json.find((e: { type: string }) => e.type === "expired");
      assert.deepEqual([expired.data.reason, expired.data.idle_limit_ms], ["idle", 3000]);
      assert.equal(s.run(["get", "--id", busy, "--json"], { env: as("obs", idleProject) }).json.lease?.agent, "busy-agent", kb.err);
    } finally {
      for (const p of [h, b]) p.kill("SIGKILL");
    }
  });

  it("in a session a renewal asked for by hand is held 60s at a time too: a crashed agent never holds work for hours (issue 23, sixth trials)", async () => {
    const id = newWo("renewed by hand");
    const agent = spawn(
      "sh",
      [
        "-c",
        `until [ -f "$WORKLEDGER_STATE_DIR/sessions/$$" ]; do sleep 0.1; done; "$NODE" "$CLI" claim --id ${id} >/dev/null; "$NODE" "$CLI" renew --id ${id} --ttl 2h >/dev/null; sleep 60`,
      ],
      {
        stdio: "ignore",
        env: { ...process.env, ...s.env, ...as("by-hand"), NODE: process.execPath, CLI },
      },
    );
    const k = keepalive("by-hand", agent.pid!);
    try {
      const renewed = () => s.run(["get", "--id", id, "--json"], { env: as("obs") }).json.lease;
      assert.ok(await until(() => renewed()?.renewed_at !== null && renewed()?.renewed_at !== undefined, 30_000), k.err);
      const lease = renewed();
      assert.ok(Date.parse(lease.expires_at) - Date.parse(lease.renewed_at) <= 60_000, JSON.stringify(lease));
    } finally {
      agent.kill("SIGKILL");
    }
  });

  it("a session's claim is held 60s at a time; a keepalive renews only its own session's leases, never another session's of the same agent", async () => {
    const [mine, theirs] = [newWo("session one"), newWo("session two")];
    const one = agentRunning("twin", ["claim", "--id", mine]);
    const two = agentRunning("twin", ["claim", "--id", theirs, "--ttl", "2s"]);
    const k1 = keepalive("twin", one.pid!);
    const exited = new Promise<void>((r) => k1.keeper.once("exit", () => r()));
    await sleep(2_000);
    const held = s.run(["get", "--id", mine, "--json"], { env: as("twin") }).json.lease;
    assert.equal(Date.parse(held.expires_at) - Date.parse(held.claimed_at), 60_000, "the default 30m claim is held with the liveness TTL");
    // Session two has no keepalive: session one's keepalive (same agent) lets its 2s lease lapse.
    await sleep(2_000);
    assert.equal(s.run(["claim", "--id", theirs], { env: as("rival") }).code, 0, k1.err);
    assert.equal(s.run(["claim", "--id", mine], { env: as("rival") }).code, 3, "its own session's lease is kept");
    one.kill("SIGKILL");
    two.kill("SIGKILL");
    await exited;
  });

  it("renew without --id renews every lease the agent holds; --ttl without a unit is refused with a suggestion", () => {
    const a = newWo("one");
    const b = newWo("two");
    s.run(["claim", "--id", a, "--ttl", "1m"], { env: as("many") });
    s.run(["claim", "--id", b, "--ttl", "1m"], { env: as("many") });
    const r = s.run(["renew", "--json"], { env: as("many") });
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(r.json.renewed.map((w: { id: number }) => String(w.id)).sort(), [a, b].sort());
    const bare = s.run(["claim", "--id", a, "--ttl", "30"], { env: as("many") });
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /ttl: needs a unit: did you mean 30s or 30m\?/);
  });

  it("renew without --id names a remembered lease that lapsed as refused, exit 5 (sixteenth trials: it said there was nothing to renew)", () => {
    const a = newWo("lapses");
    const b = newWo("lives");
    assert.equal(s.run(["claim", "--id", a, "--ttl", "1s"], { env: as("forgetful") }).code, 0);
    assert.equal(s.run(["claim", "--id", b, "--ttl", "1m"], { env: as("forgetful") }).code, 0);
    spawnSyncSleep(1200);
    const r = s.run(["renew", "--json"], { env: as("forgetful") });
    assert.equal(r.code, 5, r.stdout);
    assert.deepEqual(
      r.json.renewed.map((w: { id: number }) => String(w.id)),
      [b],
    );
    assert.deepEqual(
      r.json.refused.map((f: { id: number; error: { code: string } }) => [String(f.id), f.error.code]),
      [[a, "LEASE_LOST"]],
    );
    assert.match(r.json.warnings?.[0] ?? "", new RegExp(`^WO-${a}: .*expired`), "in the JSON's warnings too");
    // Said once, then forgotten (twentieth and twenty-first trials: exit 5 for ever, long after another agent took it).
    assert.equal(s.run(["claim", "--id", a], { env: as("other") }).code, 0);
    const later = s.run(["renew", "--json"], { env: as("forgetful") });
    assert.deepEqual([later.code, later.json.refused], [0, []]);
    // The ledger still fences its writes by name.
    assert.equal(s.run(["add-note", "--id", a, "-m", "still mine?"], { env: as("forgetful") }).code, 5);
    // Whatever a refusal's code, the verdict is exit 5 (thirty-fourth trials: a budget's exited 3).
    const capped = String(s.run(["create", "--title", "capped", "--max-usd", "0.01", "--json"], { env: as("obs") }).json.id);
    assert.equal(s.run(["claim", "--id", capped], { env: as("spender") }).code, 0);
    s.run(["spend", "--id", capped, "--phase", "execute", "--cost-usd", "1", "--json"], { env: as("spender") });
    const spent = s.run(["renew", "--json"], { env: as("spender") });
    assert.deepEqual([spent.code, spent.json.refused.map((f: { error: { code: string } }) => f.error.code)], [5, ["BUDGET_EXHAUSTED"]], spent.stdout);
  });
});

/** Blocks for ms (the sandbox's runs are synchronous too). */
function spawnSyncSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
