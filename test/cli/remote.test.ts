/** Remote mode: the same CLI commands through `workledger serve`, with the same output and exit codes. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";

describe("remote CLI", () => {
  let local: Sandbox;
  let server: ServeProcess;
  const tokens: Record<string, string> = {};
  const remote = (who: string) => ({ WORKLEDGER_URL: server.url, WORKLEDGER_TOKEN: tokens[who]!, WORKLEDGER_PROJECT: "rp", WORKLEDGER_DB: "/nonexistent/never-used.db" });

  before(async () => {
    local = sandbox();
    for (const [agent, role] of [
      ["alice", "agent"],
      ["bob", "agent"],
      ["rita", "reader"],
    ] as const) {
      tokens[agent] = local.run(["token", "create", "--as-admin", "--agent", agent, "--role", role, "--json"]).json.token;
    }
    server = await serve(local.env);
  });
  after(async () => {
    await server.stop();
    local.cleanup();
  });

  it("token create shows the secret once; list never shows it", () => {
    const list = local.run(["token", "list", "--as-admin", "--json"]).json;
    assert.deepEqual(
      list.map((t: { agent: string }) => t.agent),
      ["alice", "bob", "rita"],
    );
    assert.ok(list.every((t: Record<string, unknown>) => !("token" in t) && !("hash" in t)));
    assert.equal(local.run(["token", "create", "--as-admin", "--role", "agent"]).code, 2, "--agent is required");
    assert.equal(local.run(["token", "create", "--as-admin", "--agent", "x", "--role", "boss"]).code, 2);
  });

  it("runs the agent loop with local-mode JSON shapes and exit codes", () => {
    const a = remote("alice");
    const created = local.run(["create", "--title", "over http", "--file", "src/**", "--json"], { env: a });
    assert.equal(created.code, 0, created.stdout);
    assert.equal(created.json.created_by, "alice", "identity from the token, no --agent needed");
    const claim = local.run(["claim", "--id", "WO-1", "--ttl", "10m", "--json"], { env: a });
    assert.equal(claim.code, 0);
    assert.deepEqual(Object.keys(claim.json).sort(), [...Object.keys(created.json), "file_conflicts", "context"].sort());
    const lost = local.run(["claim", "--id", "1", "--json"], { env: remote("bob") });
    assert.equal(lost.code, 3);
    assert.equal(lost.json.error.code, "LEASE_HELD");
    assert.equal(lost.json.error.details.holder, "alice");
    assert.match(lost.json.error.hint, /\(find-unclaimed\)/, "the server's hint in the CLI's words");
    assert.match(local.run(["renew", "--id", "1", "--lease-token", "99", "--json"], { env: a }).json.error.message, /alice holds it under token 1/);
    assert.equal(local.run(["renew", "--id", "1", "--json", "--lease-token", String(claim.json.lease.token)], { env: a }).code, 0);
    assert.equal(local.run(["renew", "--id", "1", "--json", "--lease-token", "99"], { env: a }).code, 5);
    assert.equal(local.run(["add-note", "--id", "1", "-m", "remote note", "--json"], { env: remote("bob") }).json.agent, "bob");
    assert.equal(local.run(["context-put", "-m", "remote context", "--json"], { env: a }).code, 0);
    const pull = local.run(["context-pull", "--json"], { env: remote("rita") });
    assert.equal(pull.json.verdict, "fresh");
    assert.equal(pull.json.entries[0].body, "remote context");
    assert.equal(local.run(["release", "--id", "1", "--status", "done", "--json"], { env: a }).json.status, "done");
    assert.equal(local.run(["get", "--id", "1", "--json"], { env: remote("rita") }).json.notes.length, 1);
    assert.deepEqual(
      local.run(["history", "--id", "1", "--json"], { env: a }).json.map((e: { type: string }) => e.type),
      ["created", "claimed", "renewed", "note_added", "released"],
    );
    assert.equal(local.run(["get", "--id", "99", "--json"], { env: a }).code, 4);
    assert.equal(local.run(["claim", "--id", "x", "--json"], { env: a }).code, 2);
    assert.equal(local.run(["claim", "--next", "--json"], { env: a }).code, 4);
    const neither = local.run(["claim", "--json"], { env: a });
    assert.equal(neither.code, 2, "same as local: give exactly one of id or next");
    assert.equal(neither.json.error.message, local.run(["claim", "--json", "--agent", "x", "-p", "rp"]).json.error.message);
  });

  it("the probe's attack fails: an agent cannot plant a command in another's WO, and verify shows what it ran (issue 13)", () => {
    const pwned = `${local.dir}/pwned`;
    const made = local.run(["create", "--title", "victim's", "--verification", "echo tests pass", "--json"], { env: remote("alice") }).json;
    const plant = local.run(["update", "--id", String(made.id), "--verification", `echo tests pass; touch ${pwned}`, "--json"], { env: remote("bob") });
    assert.equal(plant.code, 9, plant.stdout);
    assert.equal(plant.json.error.code, "FORBIDDEN");
    assert.equal(local.run(["claim", "--id", String(made.id), "--json"], { env: remote("alice") }).code, 0);
    const forged = local.run(["add-note", "--id", String(made.id), "--kind", "verification", "-m", "verification PASSED", "--json"], { env: remote("bob") });
    assert.equal(forged.code, 2, "verification notes are verify's alone");
    const v = local.run(["verify", "--id", String(made.id), "--json"], { env: remote("alice"), cwd: local.dir });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.json.command, "echo tests pass");
    assert.match(v.json.note.body, /PASSED in [\d.]+s \(sandbox: \w+\) by alice in \/\S+: echo tests pass/);
    assert.equal(existsSync(pwned), false);
    assert.equal(local.run(["verify", "--id", String(made.id), "--json"], { env: remote("bob") }).json.error.code, "LEASE_HELD");
  });

  it("remembers lease tokens per token over HTTP too: a second machine's claim under the same token fences the first (issue 15)", () => {
    const id = String(local.run(["create", "--title", "two machines, one token", "--json"], { env: remote("alice") }).json.id);
    const m1 = { ...remote("alice"), WORKLEDGER_STATE_DIR: `${local.dir}/remote-m1` };
    const m2 = { ...remote("alice"), WORKLEDGER_STATE_DIR: `${local.dir}/remote-m2` };
    assert.equal(local.run(["claim", "--id", id, "--ttl", "1s"], { env: m1 }).code, 0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1200);
    assert.equal(local.run(["claim", "--id", id, "--json"], { env: m2 }).code, 0);
    const stale = local.run(["update", "--id", id, "--status", "done", "--json"], { env: m1 });
    assert.equal(stale.code, 5, stale.stdout);
    assert.match(stale.json.error.message, /alice holds it under token 2/);
    assert.equal(local.run(["release", "--id", id, "--status", "done"], { env: m2 }).code, 0);
  });

  it("human output matches local mode", () => {
    const viaHttp = local.run(["list", "--status", "all"], { env: remote("rita") });
    const direct = local.run(["list", "--status", "all"], { env: { WORKLEDGER_PROJECT: "rp" } });
    assert.equal(viaHttp.code, 0);
    assert.equal(viaHttp.stdout, direct.stdout);
  });

  it("readers get exit 9; a bad token exit 9; no token exit 9", () => {
    const r = local.run(["create", "--title", "nope", "--json"], { env: remote("rita") });
    assert.equal(r.code, 9);
    assert.equal(r.json.error.code, "FORBIDDEN");
    assert.equal(local.run(["list", "--json"], { env: { ...remote("alice"), WORKLEDGER_TOKEN: "wl_bad_bad" } }).code, 9);
    assert.equal(local.run(["list", "--json"], { env: { ...remote("alice"), WORKLEDGER_TOKEN: "" } }).code, 9);
  });

  it("doctor checks the server and the token's identity", () => {
    const ok = local.run(["doctor", "--json"], { env: remote("alice") });
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.json.checks.find((c: { name: string }) => c.name === "identity").detail, /^alice \(token [0-9a-f]+, role agent\)/);
    assert.equal(local.run(["doctor", "--json"], { env: { ...remote("alice"), WORKLEDGER_TOKEN: "wl_bad_bad" } }).code, 9);
  });

  it("an unreachable server is exit 7 with a clear message", () => {
    const r = local.run(["list", "--json"], { env: { ...remote("alice"), WORKLEDGER_URL: "http://127.0.0.1:9" } });
    assert.equal(r.code, 7);
    assert.match(r.json.error.message, /cannot reach the workledger server at http:\/\/127\.0\.0\.1:9/);
  });

  it("watch streams events as JSON lines, locally and over SSE", async () => {
    const lines = async (env: Record<string, string>) => {
      const child = spawn(process.execPath, [CLI, "watch", "--json", "--interval", "100ms", "-p", "w"], {
        env: { ...process.env, ...local.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      await new Promise((r) => setTimeout(r, 1200));
      local.run(["create", "-p", "w", "--title", `watched ${Math.random()}`], { env: { WORKLEDGER_AGENT: "obs" } });
      const deadline = Date.now() + 5000;
      while (!out.includes("\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill("SIGINT");
      await new Promise((r) => child.once("exit", r));
      return out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; project: string });
    };
    const viaPoll = await lines({});
    assert.deepEqual(
      viaPoll.map((e) => [e.type, e.project]),
      [["created", "w"]],
    );
    const viaSse = await lines({ WORKLEDGER_URL: server.url, WORKLEDGER_TOKEN: tokens.rita! });
    assert.deepEqual(
      viaSse.map((e) => [e.type, e.project]),
      [["created", "w"]],
      "only events from now on",
    );
  });

  it("remote watch reports a bad project like local mode (exit 2)", () => {
    const r = local.run(["watch", "-p", "Not Valid", "--json"], { env: remote("rita") });
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.json.error.code, "VALIDATION");
  });

  it("SIGTERM stops serve gracefully (exit 0)", async () => {
    const other = await serve(local.env);
    assert.equal((await fetch(`${other.url}/healthz`)).status, 200);
    assert.equal(await other.stop(), 0);
    assert.match(other.stderr(), /SIGTERM: finishing in-flight requests/);
  });

  it("serve refuses a non-loopback address when no token exists", async () => {
    const empty = sandbox();
    try {
      await assert.rejects(serve(empty.env, ["--host", "0.0.0.0"]), /refusing to listen on 0\.0\.0\.0 without any API token/);
    } finally {
      empty.cleanup();
    }
  });
});
