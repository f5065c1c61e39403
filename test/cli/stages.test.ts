/** Stages and capabilities in the CLI and over MCP (issue 25): the flags, WORKLEDGER_CAN, exit codes and hints in each door's words. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { connectMcp, type McpSession } from "../helpers/mcp.ts";
import { MCP_DIALECT } from "../../src/doors/mcp/tools.ts";
import { renderHint } from "../../src/core/hints.ts";

describe("stages and capabilities in the CLI and over MCP (issue 25)", () => {
  let s: Sandbox;
  const as = (agent: string, can?: string) => ({ env: { WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: "pipe", ...(can === undefined ? {} : { WORKLEDGER_CAN: can }) } });

  before(() => {
    s = sandbox();
    assert.equal(s.run(["project", "create", "pipe", "--agent", "boss"]).code, 0);
    const set = s.run(["project", "set", "pipe", "--as-admin", "--agent", "boss", "--stages", "enrich,ready", "--done-stage", "ready", "--json"]);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual([set.json.policy.stages, set.json.policy.done_stage], [["enrich", "ready"], "ready"]);
    assert.match(s.run(["project", "set", "pipe", "--as-admin", "--agent", "boss", "--done-stage", "ready"]).stdout, /stages enrich → ready, done only from ready/);
  });
  after(() => s.cleanup());

  it("create puts work in the first stage, or where --stage says, with --requires; the human view shows both", () => {
    assert.equal(s.run(["create", "--title", "rough", "--json"], as("tri")).json.stage, "enrich");
    const ready = s.run(["create", "--title", "schema change", "--stage", "ready", "--requires", "db,code", "--label", "api", "--json"], as("tri")).json;
    assert.deepEqual([ready.stage, ready.requires], ["ready", ["db", "code"]]);
    const shown = s.run(["get", "--id", String(ready.id)], as("tri")).stdout;
    assert.match(shown, /stage: ready/);
    assert.match(shown, /requires: db, code/);
    const bad = s.run(["create", "--title", "x", "--stage", "review", "--json"], as("tri"));
    assert.equal(bad.code, 2);
    assert.match(bad.json.error.message, /stage: project pipe has no stage "review"; its stages are enrich, ready/);
  });

  it("claim --next takes only the stage and the capabilities asked for (--can, else WORKLEDGER_CAN); what it cannot do, the hint names", () => {
    const none = s.run(["claim", "--next", "--stage", "ready", "--json"], as("x1"));
    assert.equal(none.code, 4);
    assert.match(none.json.error.message, /in stage ready that fits your capabilities \(none declared\)/);
    assert.match(none.json.error.hint, /WO-2 waits for an agent that can db, code: declare the capabilities you have/);
    const byId = s.run(["claim", "--id", "2", "--can", "code", "--json"], as("x1"));
    assert.equal(byId.code, 3);
    assert.equal(byId.json.error.code, "CAPABILITY_MISSING");
    assert.deepEqual(s.run(["whoami", "--json"], as("x1", "code,db")).json.can, ["code", "db"]);
    const took = s.run(["claim", "--next", "--stage", "ready", "--label", "api", "--json"], as("x1", "code,db"));
    assert.equal(took.code, 0, took.stderr);
    assert.equal(took.json.id, 2);
  });

  it("the holder hands work on with update --stage or release --stage; done waits for the done stage", () => {
    assert.equal(s.run(["claim", "--id", "1", "--json"], as("enr")).code, 0);
    const early = s.run(["release", "--id", "1", "--status", "done", "--json"], as("enr"));
    assert.equal(early.code, 3);
    assert.match(early.json.error.message, /finishes work only from stage ready/);
    assert.match(early.json.error.hint, /hand it on towards ready/);
    const handed = s.run(["release", "--id", "1", "--stage", "ready", "--json"], as("enr"));
    assert.deepEqual([handed.json.status, handed.json.stage], ["open", "ready"]);
    assert.deepEqual(
      s.run(["find-unclaimed", "--stage", "ready", "--json"], as("x2")).json.map((w: { id: number }) => w.id),
      [1],
    );
  });

  describe("over MCP", () => {
    let mcp: McpSession;
    before(async () => {
      s.run(["create", "--title", "needs code", "--stage", "ready", "--requires", "code"], as("tri"));
      mcp = await connectMcp(s, "mcp-coder", { WORKLEDGER_PROJECT: "pipe", WORKLEDGER_CAN: "code" });
    });
    after(async () => mcp.client.close());

    it("the server's capabilities (WORKLEDGER_CAN) are used, never a model's; the tools take stage and labels", async () => {
      const tools = (await mcp.client.listTools()).tools;
      const props = (name: string) => Object.keys(tools.find((t) => t.name === name)!.inputSchema.properties ?? {});
      for (const name of ["claim", "find_unclaimed"]) {
        assert.ok(
          ["stage", "labels"].every((k) => props(name).includes(k)),
          `${name}: ${props(name).join(", ")}`,
        );
        assert.ok(!props(name).includes("can") && !props(name).includes("any"), `${name} takes no capabilities from the model, nor leave to set them aside`);
      }
      assert.ok(props("release").includes("stage") && props("update").includes("stage") && props("create").includes("requires"));
      const refused = await mcp.call("claim", { next: true, can: ["db"] });
      assert.equal(refused.isError, true);
      assert.match(refused.body.error.message, /^can: not an argument of claim; valid: /);
      const free = await mcp.call("find_unclaimed", { stage: "ready" });
      assert.deepEqual(
        free.body.map((w: { id: number }) => w.id),
        [1, 3],
      );
      const took = await mcp.call("claim", { next: true, stage: "ready" });
      assert.equal(took.body.id, 1);
      // A renewal asked for by hand is held a minute at a time too: a crashed session never holds work for hours (MCP trial).
      const renewed = await mcp.call("renew", { id: 1, ttl: "2h" });
      assert.ok(Date.parse(renewed.body.lease.expires_at) - Date.now() <= 61_000, renewed.body.lease.expires_at);
      assert.match(renewed.body.kept_alive, /60s at a time/);
      // What the tools do not offer, the hints send to a person, by its CLI command.
      // (said once at the end, not between the command and its arguments: MCP trial 8).
      assert.equal(
        renderHint("an admin can change it ({{op:setPolicy}} {{verification_authors=any}})", MCP_DIALECT),
        "an admin can change it (workledger project set --verification-authors any) (a workledger command is not an MCP tool: ask a person to run it)",
        "in its flags (twenty-fourth MCP trial)",
      );
      assert.equal(renderHint("{{op:claim}} it first", MCP_DIALECT), "claim it first");
      // No tool takes `any` (thirty-fourth MCP trial: CAPABILITY_MISSING's hint offered any=true, and claim refused it).
      assert.equal(
        renderHint("{{op:claim}} it by id with {{any=true}}", MCP_DIALECT),
        "claim it by id with --any, which only a person's workledger claim takes (this server's capabilities are its settings: WORKLEDGER_CAN)",
      );
      const none = await mcp.call("claim", { id: 2 });
      assert.equal(none.body.error.code, "LEASE_HELD");
    });
  });
});
