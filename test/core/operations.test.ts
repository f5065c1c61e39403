/**
 * The operation table (core/operations.ts) is the one list of operations:
 * every entry is reachable through every door it declares, with the same
 * validation, and no door has an operation the table lacks.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { LedgerError } from "../../src/core/errors.ts";
import type { Ledger } from "../../src/core/ledger.ts";
import { callLedger, OPERATIONS } from "../../src/core/operations.ts";
import { inputs } from "../../src/core/schemas.ts";
import { filledByDoor, REGISTERED } from "../../src/doors/cli/operation.ts";
import { buildProgram } from "../../src/doors/cli/program.ts";
import { openapi } from "../../src/doors/http/openapi.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { createMcpServer } from "../../src/doors/mcp/server.ts";
import { openLedger } from "../../src/index.ts";
import { sandbox } from "../helpers/cli.ts";
import { RemoteLedger } from "../../src/remote/client.ts";

/** Members of the ledger that are not operations: lifecycle, health, identity and event following (and private helpers). */
const API_EXTRAS = ["info", "knowsCaller", "whoami", "follow", "close", "health", "events", "lastEventSeq"];
/** serve's webhook deliverer (doors/http/deliverer.ts) calls these; no door offers them. */
const DELIVERER = ["webhooksToDeliver", "webhookProgress", "webhookEvents", "webhooksRelease", "webhookChange"];
/** Moving a whole ledger, pruning and backing it up (issue 29): the CLI's, on the store it opens itself, never a door's operation. */
const ARCHIVE = ["exportLedger", "importLedger", "prune", "backup"];
const NOT_OPERATIONS = new Set([
  ...API_EXTRAS,
  ...DELIVERER,
  ...ARCHIVE,
  "constructor",
  "write",
  "recordRefusal",
  "change",
  "sweep",
  "claimNext",
  "claimIn",
  "claimAtOnce",
  "finishAtOnce",
]);

describe("operation table", () => {
  let dir: string;
  let ledger: Ledger;
  let server: RunningServer;
  let remote: RemoteLedger;
  let mcp: Client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-ops-"));
    ledger = await openLedger({ db: join(dir, "l.db") });
    await ledger.create({ project: "p", agent: "seed", items: [{ title: "one", verification: "true" }] });
    server = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t" });
    remote = new RemoteLedger(server.url, (await ledger.tokens.create({ agent: "seed", role: "admin" }, "admin")).token);
    const [a, b] = InMemoryTransport.createLinkedPair();
    await createMcpServer({ ledger, agent: "seed", project: "p", version: "t", git: () => null }).connect(a);
    mcp = new Client({ name: "ops", version: "1" });
    await mcp.connect(b);
  });
  after(async () => {
    await mcp.close();
    await server.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("names every operation of the ledger, once", () => {
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(ledger)).filter((m) => !NOT_OPERATIONS.has(m));
    const named = OPERATIONS.filter((o) => !o.local).map((o) => o.name);
    assert.deepEqual([...named].sort(), [...methods].sort());
    assert.equal(new Set(OPERATIONS.map((o) => o.name)).size, OPERATIONS.length);
    assert.equal(new Set(OPERATIONS.flatMap((o) => (o.tool ? [o.tool.name] : []))).size, OPERATIONS.filter((o) => o.tool).length);
  });

  it("the remote client has the rest of the API too, and says it knows its caller", () => {
    for (const m of API_EXTRAS) assert.notEqual((remote as unknown as Record<string, unknown>)[m], undefined, m);
    assert.deepEqual([remote.knowsCaller, ledger.knowsCaller], [true, false]);
  });

  it("every HTTP binding is a route in OpenAPI and a method of the remote client", () => {
    const doc = openapi("t") as { paths: Record<string, Record<string, { operationId: string }>> };
    for (const op of OPERATIONS) {
      if (!op.http) continue;
      assert.equal(typeof (remote as unknown as Record<string, unknown>)[op.name], "function", op.name);
      if (op.http.when) continue; // shares its path with the operation it is chosen from
      for (const path of op.http.paths) assert.ok(doc.paths[path.replace(/:(\w+)/g, "{$1}")]?.[op.http.method.toLowerCase()], `${op.http.method} ${path}`);
    }
  });

  it("every CLI command registered from the table has a flag for each field of its operation's input", () => {
    buildProgram();
    for (const [name, { op, flags }] of REGISTERED) {
      const fields = Object.keys((inputs[op.input] as unknown as { shape: Record<string, unknown> }).shape);
      for (const f of fields) if (!filledByDoor(op).includes(f)) assert.ok(flags.includes(f), `${name} (${op.name}) has no flag for ${f}`);
      for (const f of flags) assert.ok(fields.includes(f), `${name} (${op.name}): ${f} is not an input of ${op.name}`);
    }
    // Every operation a person calls by hand has its command (the rest are the server's, and steps of verify, worktree, checkpoint and check-commits).
    const commands = new Set([...REGISTERED.values()].map((r) => r.op.name));
    const internal = new Set(["contextHistory", "verifyCommand", "recordVerification", "holding", "recordCheckpoint", "checkCommits"]);
    for (const op of OPERATIONS) if (!internal.has(op.name)) assert.ok(commands.has(op.name), `no CLI command for ${op.name}`);
  });

  it("each CLI command refuses a bad project with the ledger's own message", () => {
    const s = sandbox();
    try {
      for (const [name, { op }] of REGISTERED) {
        if (!("project" in (inputs[op.input] as unknown as { shape: Record<string, unknown> }).shape)) continue;
        const words = name
          .replace(/ \(\w+\)$/, "")
          .replace(" <name>", "")
          .split(" ");
        const args = name.includes("<name>") ? [...words, "Bad Project"] : [...words, "-p", "Bad Project"];
        const extra =
          op.name === "create"
            ? ["--title", "x"]
            : op.name === "addNote" || op.name === "contextPut"
              ? ["-m", "x", "--id", "1"]
              : op.name === "setPolicy"
                ? ["--verification-authors", "any"]
                : [];
        const r = s.run([...args, ...extra, "--json"], { env: { WORKLEDGER_AGENT: "seed" } });
        if (op.name === "projects") {
          assert.equal(r.code, 0, "projects lists every project, whatever the project flag says");
          continue;
        }
        assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
        assert.match(r.json.error.message, /project: must match/, name);
      }
    } finally {
      s.cleanup();
    }
  });

  it("every tool binding is an MCP tool, without the fields the server fills in", async () => {
    const { tools } = await mcp.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), OPERATIONS.flatMap((o) => (o.tool ? [o.tool.name] : [])).sort());
    for (const t of tools) for (const field of ["agent", "role"]) assert.ok(!(field in (t.inputSchema.properties ?? {})), `${t.name}.${field}`);
  });

  it("each door refuses the same bad input with the same message as the ledger itself", async () => {
    const bad = {
      project: "Bad Project",
      agent: "seed",
      id: 1,
      items: [{ title: "x" }],
      body: "b",
      passed: true,
      exit_code: 0,
      duration_ms: 1,
      output_tail: "",
      command: "true",
      verification_authors: "any",
    };
    const message = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        assert.ok(e instanceof LedgerError, String(e));
        return `${e.code}: ${e.message}`;
      }
      return "accepted";
    };
    for (const op of OPERATIONS) {
      if (op.local) continue;
      const shape = (inputs[op.input] as unknown as { shape: Record<string, unknown> }).shape;
      if (!("project" in shape)) continue; // webhook subscriptions: of the ledger, not of a project
      const input = Object.fromEntries(Object.entries(bad).filter(([k]) => k in shape));
      const direct = await message(callLedger(ledger, op, input));
      assert.match(direct, /^VALIDATION: .*project: must match/, op.name);
      if (op.http) assert.equal(await message(callLedger(remote, op, input)), direct, `remote ${op.name}`);
      if (op.tool) {
        const { agent: _a, ...args } = input;
        const r = (await mcp.callTool({ name: op.tool.name, arguments: args })) as { isError?: boolean; content: { text: string }[] };
        const err = JSON.parse(r.content[0]!.text).error;
        assert.equal(`${err.code}: ${err.message}`, direct, `mcp ${op.tool.name}`);
      }
    }
  });
});
