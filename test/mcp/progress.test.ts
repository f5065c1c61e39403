/**
 * A long verification over MCP (twenty-third MCP trial: a 75 s verify ended in
 * the client's 60 s request timeout): a call that asks for progress hears that
 * it still runs, so a client that restarts its timeout on progress waits for it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import type { Ledger } from "../../src/core/ledger.ts";
import { createMcpServer } from "../../src/doors/mcp/server.ts";
import { openLedger } from "../../src/index.ts";

describe("MCP: a long verification reports progress", () => {
  let dir: string;
  let ledger: Ledger;
  let server: ReturnType<typeof createMcpServer>;
  let mcp: Client;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-progress-"));
    // The server stands where the work is, as a client starts it: verify runs only there (thirty-fifth MCP trial).
    process.chdir(dir);
    ledger = await openLedger({ db: join(dir, "l.db") });
    await ledger.create({ project: "p", agent: "seed", items: [{ title: "slow", verification: "sleep 1.5" }] });
    const [a, b] = InMemoryTransport.createLinkedPair();
    server = createMcpServer({ ledger, agent: "ann", project: "p", version: "t", git: () => null, progressEveryMs: 200 });
    await server.connect(a);
    mcp = new Client({ name: "progress", version: "1" });
    await mcp.connect(b);
  });
  after(async () => {
    server.keepAlive.stop();
    await mcp.close();
    await ledger.close();
    process.chdir(tmpdir());
    rmSync(dir, { recursive: true, force: true });
  });

  it("a call with a progressToken hears it every interval, and a timeout shorter than the run that restarts on progress does not end it", async () => {
    assert.notEqual((await mcp.callTool({ name: "claim", arguments: { id: 1 } })).isError, true);
    const heard: string[] = [];
    const r = await mcp.callTool({ name: "verify", arguments: { id: 1, dir } }, CallToolResultSchema, {
      timeout: 700,
      resetTimeoutOnProgress: true,
      onprogress: (p) => heard.push(p.message ?? ""),
    });
    assert.notEqual(r.isError, true, JSON.stringify(r.content));
    assert.equal(JSON.parse((r.content as { text: string }[])[0]!.text).passed, true);
    assert.ok(heard.length >= 3, `heard ${heard.length}`);
    assert.match(heard[0]!, /the verification still runs \(0\.2s\)/);
  });
});
