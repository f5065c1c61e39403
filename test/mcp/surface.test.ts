/** The MCP surface speaks MCP (issue 15): portable schemas, instructions, annotations, its own words in hints, and the tools agents reach for. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
}

/** Where a tool's input schema would be rejected by a client that maps tools onto one type per field. */
function portabilityProblems(node: unknown, path: string): string[] {
  if (typeof node !== "object" || node === null) return [];
  const o = node as Record<string, unknown>;
  const here: string[] = [];
  if (Array.isArray(o.type)) here.push(`${path}: type ${JSON.stringify(o.type)}`);
  for (const k of ["anyOf", "oneOf", "allOf"]) if (k in o) here.push(`${path}: ${k}`);
  if (o.type === "array" && !o.items) here.push(`${path}: array without items`);
  return [...here, ...Object.entries(o).flatMap(([k, v]) => portabilityProblems(v, `${path}.${k}`))];
}

/** Properties (nested ones too) without a description. */
function undescribed(props: Record<string, Record<string, unknown>> | undefined, path: string): string[] {
  return Object.entries(props ?? {}).flatMap(([k, v]) => [
    ...(v.description ? [] : [`${path}.${k}`]),
    ...undescribed(v.properties as Record<string, Record<string, unknown>> | undefined, `${path}.${k}`),
  ]);
}

describe("MCP surface (issue 15)", () => {
  let s: Sandbox;
  let client: Client;
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await client.callTool({ name, arguments: args })) as ToolResult;
    return { isError: r.isError === true, body: JSON.parse(r.content[0]!.text) };
  };

  before(async () => {
    s = sandbox();
    s.run(["create", "-p", "shop", "--agent", "obs", "--title", "existing"]);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp"],
      env: { ...(process.env as Record<string, string>), ...s.env, WORKLEDGER_AGENT: "surfer", WORKLEDGER_PROJECT: "shop" },
      stderr: "pipe",
    });
    client = new Client({ name: "surface", version: "1.0.0" });
    await client.connect(transport);
  });
  after(async () => {
    await client.close();
    s.cleanup();
  });

  it("tool schemas are portable (one type per field), every parameter is described, reads are annotated, and the list stays under 2.5k tokens", async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.flatMap((t) => portabilityProblems(t.inputSchema, t.name)),
      [],
    );
    assert.deepEqual(
      tools.flatMap((t) => undescribed(t.inputSchema.properties as Record<string, Record<string, unknown>>, t.name)).filter((p) => !p.endsWith(".project")),
      [],
    );
    for (const t of tools) assert.ok(!("lease_token" in (t.inputSchema.properties ?? {})), `${t.name}: the server sends tokens itself`);
    const readOnly = tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name);
    assert.deepEqual(readOnly.sort(), ["context_pull", "find_unclaimed", "get", "history", "list", "projects", "whoami"]);
    const tokens = JSON.stringify(tools).length / 4;
    assert.ok(tokens < 2500, `tool list is about ${Math.round(tokens)} tokens`);
  });

  it("sends instructions with the loop at initialize", () => {
    const text = client.getInstructions() ?? "";
    assert.match(text, /context_pull; find_unclaimed; claim/);
    // No tool takes a lease token (the server remembers them): the instructions do not name one (thirtieth MCP trial).
    assert.match(text, /remembers your lease tokens and renews your leases/);
    assert.doesNotMatch(text, /lease_token/);
  });

  it("create takes one work order's fields without items", async () => {
    const r = await call("create", { title: "first guess", priority: "P1" });
    assert.equal(r.isError, false, JSON.stringify(r.body));
    assert.equal(r.body[0].title, "first guess");
    assert.equal(r.body[0].priority, "P1");
    const batch = await call("create", { items: [{ title: "a" }, { title: "b", depends_on: ["#1"] }] });
    assert.deepEqual(batch.body[1].depends_on, [batch.body[0].id]);
  });

  it("a mistyped project is refused with a suggestion in MCP words; a wholly new one is created", async () => {
    const r = await call("create", { project: "shopp", title: "typo" });
    assert.equal(r.isError, true);
    assert.match(r.body.error.message, /did you mean shop\?/);
    assert.match(r.body.error.hint, /use project=shop; .* new_project=true/);
    assert.equal((await call("context_put", { project: "chainwatch", body: "new project" })).isError, false);
    const projects = await call("projects");
    assert.deepEqual(
      projects.body.map((p: { name: string }) => p.name),
      ["chainwatch", "shop"],
    );
  });

  it("with the project's require_verification on, done without a passing verify under the lease is VERIFICATION_REQUIRED", async () => {
    assert.equal(s.run(["project", "set", "shop", "--require-verification", "on", "--as-admin"], { env: { WORKLEDGER_AGENT: "root" } }).code, 0);
    try {
      const [wo] = (await call("create", { title: "must verify", verification: "true" })).body;
      await call("claim", { id: wo.id });
      const refused = await call("release", { id: wo.id, status: "done" });
      assert.equal(refused.body.error.code, "VERIFICATION_REQUIRED");
      assert.match(refused.body.error.hint, /run verify while you hold it/);
      assert.equal((await call("verify", { id: wo.id })).body.passed, true);
      // This server runs where the test does, not on the WO's branch: that pass is not one of its work (twenty-fifth trials).
      const elsewhere = await call("release", { id: wo.id, status: "done" });
      assert.equal(elsewhere.body.error.code, "VERIFICATION_REQUIRED");
      assert.match(elsewhere.body.error.message, /not on its branch wo\/\d+-must-verify, and project shop requires a pass on it/);
      assert.equal((await call("release", { id: wo.id, status: "open" })).body.status, "open");
    } finally {
      s.run(["project", "set", "shop", "--require-verification", "off", "--as-admin"], { env: { WORKLEDGER_AGENT: "root" } });
    }
  });

  it("whoami names the agent and the leases it holds; hints name tools", async () => {
    const [wo] = (await call("create", { title: "mine" })).body;
    await call("claim", { id: wo.id });
    const me = await call("whoami", { project: "shop" });
    assert.equal(me.body.agent, "surfer");
    assert.equal(me.body.role, "agent", "an MCP server's caller is an agent, never an admin by default");
    assert.deepEqual(
      me.body.leases.map((l: { id: number }) => l.id),
      [wo.id],
    );
    const policy = await call("update", { id: wo.id, fields: { verification: "x" } });
    assert.equal(policy.isError, false, "the holder (locally, trusted like an admin) may");
    const nothing = await call("claim", { id: 9999 });
    assert.match(nothing.body.error.hint, /\blist\b/);
    assert.doesNotMatch(JSON.stringify(nothing.body), /--|find-unclaimed/);
  });
});
