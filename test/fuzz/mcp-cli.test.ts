/**
 * Fuzzing the MCP tools (in-process, over the SDK's in-memory transport) and
 * the CLI (real processes): every rejection is a tool error / exit 2-4 with a
 * message, never an internal error, crash or hang, and the ledger is
 * byte-for-byte unchanged. `verify` runs only the WO's own command.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Ledger } from "../../src/core/ledger.ts";
import { createMcpServer } from "../../src/doors/mcp/server.ts";
import { TOOLS } from "../../src/doors/mcp/tools.ts";
import { openLedger } from "../../src/index.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { dumpSqlite as dump } from "../helpers/db.ts";
import { hostileBody, hostileJson, nasty } from "./hostile.ts";

const runs = Number(process.env.WORKLEDGER_FUZZ_RUNS ?? 300);
const seed = Number(process.env.WORKLEDGER_FUZZ_SEED ?? 424242);
const PWNED = "/tmp/workledger-pwned";

describe("fuzzing the MCP and CLI doors", () => {
  let s: Sandbox;
  let ledger: Ledger;
  let client: Client;

  before(async () => {
    rmSync(PWNED, { force: true });
    s = sandbox();
    ledger = await openLedger({ db: s.db });
    await ledger.create({
      project: "p",
      agent: "seed",
      items: [
        { title: "$(touch /tmp/workledger-pwned)", verification: "echo safe", description: "`touch /tmp/workledger-pwned`", files: ["; touch /tmp/workledger-pwned"] },
        { title: "two" },
      ],
    });
    await ledger.claim({ project: "p", agent: "holder", id: 1 });
    const server = createMcpServer({ ledger, agent: "fuzzer", project: "p", version: "fuzz", git: () => null });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    client = new Client({ name: "fuzz", version: "1" });
    await client.connect(b);
  });
  after(async () => {
    await client.close();
    await ledger.close();
    s.cleanup();
  });

  it(`MCP: hostile tool arguments are tool errors that change nothing (${runs} runs)`, async () => {
    const args = fc.oneof(
      fc.dictionary(
        fc.constantFrom(
          "project",
          "id",
          "next",
          "ttl",
          "status",
          "body",
          "kind",
          "items",
          "fields",
          "lease_token",
          "if_revision",
          "key",
          "history",
          "limit",
          "max_age",
          "timeout",
          "block_on_fail",
          "agent",
          "zzz",
        ),
        nasty,
        { maxKeys: 5 },
      ),
      hostileJson,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TOOLS.map((t) => t.name), "bogus"), args, async (name, a) => {
        const before = dump(s.db);
        if (typeof a !== "object" || a === null || Array.isArray(a)) {
          // Not a valid MCP request at all: the SDK refuses it at the protocol level.
          await assert.rejects(client.callTool({ name, arguments: a as Record<string, unknown> }), /expected record/);
          assert.equal(dump(s.db), before);
          return;
        }
        const r = (await client.callTool({ name, arguments: a as Record<string, unknown> })) as { isError?: boolean; content: { text: string }[] };
        const body = JSON.parse(r.content[0]!.text);
        if (r.isError) {
          assert.notEqual(body.error.code, "INTERNAL", `${name} ${JSON.stringify(a)?.slice(0, 300)}: ${body.error.message}`);
          assert.ok(body.error.message.length > 0);
          assert.equal(dump(s.db), before, `${name} was rejected but changed the ledger`);
        }
      }),
      { numRuns: runs, seed },
    );
  });

  it("CLI: hostile flag values and batch files are exit 2-4 with a message, never 1, and change nothing", async () => {
    const flag = fc.constantFrom(
      "--id",
      "--ttl",
      "--status",
      "--priority",
      "--limit",
      "--lease-token",
      "--if-revision",
      "--kind",
      "--title",
      "--depends-on",
      "--label",
      "--max-age",
      "-p",
    );
    const value = nasty.map((v) =>
      String(v)
        .replace(/\u0000/g, "")
        .slice(0, 5000),
    );
    const command = fc.constantFrom(
      ["claim"],
      ["renew"],
      ["release"],
      ["update"],
      ["get"],
      ["list"],
      ["add-note", "-m", "x"],
      ["context-pull"],
      ["history"],
      ["find-unclaimed"],
      ["create"],
    );
    await fc.assert(
      fc.asyncProperty(command, fc.array(fc.tuple(flag, value), { minLength: 1, maxLength: 3 }), async (cmd, flags) => {
        const before = dump(s.db);
        const r = s.run([...cmd, ...flags.flat(), "--json"], { env: { WORKLEDGER_AGENT: "fuzzer", WORKLEDGER_PROJECT: "p" } });
        assert.ok([0, 2, 3, 4, 5].includes(r.code), `${cmd.join(" ")} ${JSON.stringify(flags).slice(0, 300)} → exit ${r.code}: ${r.stdout.slice(0, 300)}${r.stderr.slice(0, 300)}`);
        if (r.code !== 0) {
          assert.ok(r.json.error.message.length > 0);
          assert.equal(dump(s.db), before);
        }
      }),
      { numRuns: Math.max(10, Math.round(runs / 10)), seed },
    );
    await fc.assert(
      fc.asyncProperty(hostileBody, async (text) => {
        const before = dump(s.db);
        const r = s.run(["create", "--from", "-", "--json"], { env: { WORKLEDGER_AGENT: "fuzzer", WORKLEDGER_PROJECT: "p" }, input: text });
        assert.ok([0, 2].includes(r.code), `batch ${text.slice(0, 200)} → exit ${r.code}: ${r.stdout.slice(0, 300)}`);
        if (r.code !== 0) assert.equal(dump(s.db), before);
      }),
      { numRuns: Math.max(10, Math.round(runs / 10)), seed },
    );
  });

  it("verify runs only the WO's verification command, never other fields", async () => {
    const r = s.run(["verify", "--id", "1", "--json"], { env: { WORKLEDGER_AGENT: "holder", WORKLEDGER_PROJECT: "p" } });
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.json.note.body, /safe/);
    assert.equal(existsSync(PWNED), false, "a shell metacharacter in another field was executed");
  });
});
