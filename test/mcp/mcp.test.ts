/** `workledger mcp` driven by the SDK's own client over stdio, two agents at once. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";
import { dumpSqlite } from "../helpers/db.ts";
import { connectMcp } from "../helpers/mcp.ts";
import { serve } from "../helpers/serve.ts";

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
}

describe("MCP server", () => {
  let s: Sandbox;
  const clients: Record<string, Client> = {};

  const connect = async (agent: string, extra: Record<string, string> = {}) => (await connectMcp(s, agent, { WORKLEDGER_PROJECT: "mcp", ...extra })).client;
  const call = async (who: string, name: string, args: Record<string, unknown> = {}) => {
    const r = (await clients[who]!.callTool({ name, arguments: args })) as ToolResult;
    const body = JSON.parse(r.content[0]!.text);
    return { isError: r.isError === true, body };
  };
  const dump = () => dumpSqlite(s.db);

  before(async () => {
    s = sandbox();
    s.run(["init"]);
    clients.alice = await connect("alice");
    clients.bob = await connect("bob");
  });
  after(async () => {
    await Promise.all(Object.values(clients).map((c) => c.close()));
    s.cleanup();
  });

  it("lists one tool per agent command, small enough for a model's context", async () => {
    const { tools } = await clients.alice!.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      "add_note",
      "checkpoint",
      "claim",
      "context_pull",
      "context_put",
      "create",
      "find_unclaimed",
      "get",
      "history",
      "list",
      "projects",
      "release",
      "renew",
      "spend",
      "update",
      "verify",
      "whoami",
      "worktree",
    ]);
    for (const t of tools) {
      assert.ok(t.description && t.description.length > 20, t.name);
      assert.equal(t.inputSchema.type, "object");
      assert.ok(!("agent" in (t.inputSchema.properties ?? {})), `${t.name} must not take an agent`);
    }
    assert.match(tools.find((t) => t.name === "claim")!.description!, /pick another/);
    assert.match(tools.find((t) => t.name === "renew")!.description!, /already renews while you are connected/);
    const chars = JSON.stringify(tools).length;
    assert.ok(chars / 4 < 2500, `tool list is about ${Math.round(chars / 4)} tokens`);
  });

  it("runs the agent loop; the second claimant gets the conflict as a tool error", async () => {
    const created = await call("alice", "create", {
      items: [
        { title: "fix api", verification: "echo ok", files: ["api/**"] },
        { title: "fix web", verification: "echo 'web broken' >&2; exit 1" },
      ],
    });
    assert.equal(created.isError, false);
    assert.deepEqual(
      created.body.map((w: { id: number }) => w.id),
      [1, 2],
    );
    assert.equal((await call("bob", "find_unclaimed")).body.length, 2);
    const claimed = await call("alice", "claim", { id: "WO-1", ttl: "10m" });
    assert.equal(claimed.isError, false);
    assert.equal(claimed.body.lease.agent, "alice");
    const lost = await call("bob", "claim", { id: 1 });
    assert.equal(lost.isError, true);
    assert.equal(lost.body.error.code, "LEASE_HELD");
    assert.equal(lost.body.error.details.holder, "alice");
    assert.match(lost.body.error.hint, /pick another work order \(find_unclaimed\)/, "hints name tools, never CLI commands or flags");
    assert.equal((await call("alice", "renew", { id: 1 })).isError, false);
    assert.equal((await call("bob", "add_note", { id: 1, kind: "finding", body: "api returns 500 on empty input" })).body.agent, "bob");
    // Only what a tool advertises is taken: the server sends lease tokens itself, and a call is answered on its session.
    for (const [tool, args] of [
      ["renew", { id: 1, lease_token: claimed.body.lease.token }],
      ["add_note", { id: 1, body: "retried", idempotency_key: "note-1" }],
      ["create", { title: "x", owner: "bob" }],
    ] as const) {
      const refused = await call("bob", tool, args);
      assert.equal(refused.body.error.code, "VALIDATION", tool);
      assert.match(refused.body.error.message, new RegExp(`: not an argument of ${tool}; valid: project, `));
      assert.match(refused.body.error.hint, /leave those out/);
    }
    // A WO's caps are out of create's schema (a smaller tool list) but taken at the top as in items (thirty-first MCP trial);
    // a field no schema knows inside an item is named.
    const capped = await call("bob", "create", { title: "capped", max_usd: 5 });
    assert.equal(capped.body[0].max_usd, 5, JSON.stringify(capped.body));
    const odd = await call("bob", "create", { items: [{ title: "odd", status: "done" }] });
    assert.deepEqual(odd.body.error.details.issues, [{ field: "status", message: "unknown field" }]);
    const verified = await call("alice", "verify", { id: 1 });
    assert.equal(verified.body.passed, true);
    assert.equal(verified.body.command, "echo ok", "the result names the command that ran");
    assert.equal((await call("alice", "context_put", { body: "api fixed; web still broken" })).body.agent, "alice");
    const pulled = await call("bob", "context_pull");
    assert.equal(pulled.body.verdict, "fresh");
    assert.equal(pulled.body.entries[0].body, "api fixed; web still broken");
    const spent = await call("alice", "spend", { id: 1, phase: "execute", model: "claude-haiku-4-5", tokens_in: 1000, tokens_out: 100 });
    assert.equal(spent.isError, false, JSON.stringify(spent.body));
    assert.deepEqual([spent.body.spend.token, spent.body.spend.cost_usd, spent.body.work_order.spend.tokens_in], [claimed.body.lease.token, 0.0015, 1000]);
    const negative = await call("alice", "spend", { id: 1, tokens_in: -1 });
    assert.equal(negative.body.error.code, "VALIDATION");
    const done = await call("alice", "release", { id: 1, status: "done", note: "shipped" });
    assert.equal(done.body.status, "done");
    const next = await call("bob", "claim", { next: true });
    assert.equal(next.body.id, 2);
    const failed = await call("bob", "verify", { id: 2, block_on_fail: true });
    assert.equal(failed.body.passed, false);
    assert.equal(failed.body.work_order.status, "blocked");
    assert.deepEqual(
      (await call("bob", "history", { id: 1 })).body.map((e: { type: string }) => e.type),
      ["created", "claimed", "renewed", "note_added", "note_added", "spend_recorded", "released", "note_added"],
    );

    const viaCli = s.run(["get", "-p", "mcp", "--id", "1", "--json"]).json;
    assert.equal(viaCli.status, "done");
    assert.deepEqual(
      viaCli.notes.map((n: { agent: string; kind: string }) => [n.agent, n.kind]),
      [
        ["bob", "finding"],
        ["alice", "verification"],
        ["alice", "progress"],
      ],
    );
    assert.equal(s.run(["get", "-p", "mcp", "--id", "2", "--json"]).json.status, "blocked");
  });

  it("rejects bad input with a tool error naming the field, and writes nothing", async () => {
    const before = dump();
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ["claim", {}, /give exactly one of id or next/],
      ["claim", { id: 1, ttl: "0s" }, /ttl: must be a duration between 1s and 7d/],
      ["claim", { id: "WO-x" }, /id: must be a work-order id/],
      ["renew", { id: -3 }, /id:/],
      ["update", { id: 2, status: "finished" }, /status: must be one of/],
      ["create", { title: "" }, /^title: must not be empty/],
      ["create", { items: [{ title: "x" }, { title: "" }] }, /items\[1\]\.title/],
      ["create", { items: "nope" }, /items/],
      ["add_note", { id: 2, body: "x", kind: "rant" }, /kind: must be one of/],
      ["list", { status: "whatever" }, /status/],
      ["get", { id: 1, project: "Bad Project" }, /project: must match/],
      ["claim", { id: 1, agent: "mallory" }, /agent: not an argument/],
      ["nope", {}, /unknown tool/],
      ["create", { items: [{ title: "ok" }, { title: "lone \ud800" }] }, /items\[1\]\.title: must be valid Unicode text/],
      ["update", { id: 2, fields: { title: "x\u202eexe" } }, /title: must be a single line/],
    ];
    for (const [tool, args, message] of bad) {
      const r = await call("alice", tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)}`);
      assert.match(r.body.error.message, message, tool);
      assert.ok(["VALIDATION"].includes(r.body.error.code), `${tool}: ${r.body.error.code}`);
    }
    assert.equal(dump(), before);
  });

  it("a request that is not UTF-8 gets a tool error and writes nothing (issue 13)", async () => {
    const before = dump();
    const child = spawn(process.execPath, [CLI, "mcp"], {
      env: { ...process.env, ...s.env, WORKLEDGER_AGENT: "alice", WORKLEDGER_PROJECT: "mcp" },
      stdio: ["pipe", "pipe", "inherit"],
    });
    const replies: { id: number; result?: ToolResult; error?: { code: number } }[] = [];
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
        replies.push(JSON.parse(out.slice(0, nl)));
        out = out.slice(nl + 1);
      }
    });
    const send = (line: Buffer | string) => child.stdin.write(Buffer.concat([Buffer.from(line), Buffer.from("\n")]));
    send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }));
    send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    const [head, tail] = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "create", arguments: { items: [{ title: "a@b" }] } } }).split("@");
    send(Buffer.concat([Buffer.from(head!), Buffer.from([0xff, 0xfe]), Buffer.from(tail!)]));
    send(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/list" }));
    const deadline = Date.now() + 10_000;
    while (replies.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill();
    const refused = replies.find((r) => r.id === 2);
    assert.equal(refused?.result?.isError, true);
    assert.match(JSON.parse(refused!.result!.content[0]!.text).error.message, /not valid UTF-8/);
    assert.ok(replies.find((r) => r.id === 3)?.result, "the session goes on");
    assert.equal(dump(), before);
  });

  it("works in remote mode, with the token's identity", async () => {
    const token = s.run(["token", "create", "--as-admin", "--agent", "carol", "--role", "agent", "--json"]).json.token;
    const server = await serve(s.env);
    const remote = await connect("ignored-name", { WORKLEDGER_URL: server.url, WORKLEDGER_TOKEN: token, WORKLEDGER_DB: "/nonexistent/x.db" });
    try {
      const created = (await remote.callTool({ name: "create", arguments: { items: [{ title: "remote via mcp" }] } })) as ToolResult;
      const wo = JSON.parse(created.content[0]!.text);
      assert.equal(wo[0].created_by, "carol");
      const claimed = (await remote.callTool({ name: "claim", arguments: { id: wo[0].id } })) as ToolResult;
      assert.equal(JSON.parse(claimed.content[0]!.text).lease.agent, "carol");
      const held = (await remote.callTool({ name: "claim", arguments: { id: wo[0].id } })) as ToolResult;
      assert.equal(held.isError, true);
      assert.equal(JSON.parse(held.content[0]!.text).error.code, "LEASE_HELD");
    } finally {
      await remote.close();
      await server.stop();
    }
  });

  it("agent-setup --print shows every file as one JSON document, and its MCP entry starts a working server", async () => {
    for (const client of ["claude", "codex", "generic"]) {
      const r = s.run(["agent-setup", "--client", client, "--agent", "dana", "-p", "mcp", "--print", "--json"]);
      assert.equal(r.code, 0, r.stdout);
      assert.equal(r.json.written, false);
      assert.match(r.json.instructions, /context_pull[\s\S]*claim[\s\S]*LEASE_LOST[\s\S]*context_put/);
      const files = r.json.files as Record<string, string>;
      if (client === "claude") {
        assert.ok(JSON.parse(files[".mcp.json"]!).mcpServers.workledger);
        assert.deepEqual(Object.keys(JSON.parse(files[".claude/settings.json"]!).hooks), ["SessionStart", "PostToolUse", "SessionEnd"]);
      }
      if (client === "codex") assert.match(files["codex-config.toml"]!, /\[mcp_servers\.workledger\]/);
      if (client === "generic") assert.match(files["workledger-session.sh"]!, /keepalive --pid/);
    }
    assert.equal(s.run(["agent-setup", "--client", "vim"]).code, 2);
    const { server } = s.run(["agent-setup", "--client", "generic", "--agent", "dana", "-p", "mcp", "--print", "--json"]).json;
    assert.equal(server.env.WORKLEDGER_DB, s.db);
    const client = new Client({ name: "setup", version: "1" });
    await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: { PATH: process.env.PATH ?? "", ...server.env }, stderr: "pipe" }));
    try {
      const listed = (await client.callTool({ name: "list", arguments: {} })) as ToolResult;
      assert.equal(listed.isError, undefined);
      assert.ok(Array.isArray(JSON.parse(listed.content[0]!.text)));
    } finally {
      await client.close();
    }
  });
});
