/**
 * Issue 24, finding 3: connections cost a token or go away. Twenty sockets
 * that each sent one anonymous GET /healthz and then idled held all of
 * --max-connections 20 for the 65 s keep-alive; now an anonymous response
 * closes its connection, sockets that send nothing are cut at the header
 * timeout, and one address cannot hold more than its share.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Ledger } from "../../src/core/ledger.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { openLedger } from "../../src/index.ts";
import { sleep } from "../helpers/util.ts";

/** A raw socket, and a promise of its close. */
function connect(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("error", () => undefined);
    socket.resume(); // read (and drop) what arrives, so the server's close is seen
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

describe("connections cost a token or go away (issue 24, finding 3)", () => {
  let dir: string;
  let ledger: Ledger;
  let token = "";
  const servers: RunningServer[] = [];
  const start = async (opts: { maxConnections: number; maxConnectionsPerAddress?: number; headersTimeoutMs?: number }) => {
    const s = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "test", ...opts });
    servers.push(s);
    return { server: s, port: Number(new URL(s.url).port) };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-conn-"));
    ledger = (await openLedger({ db: join(dir, "l.db") })) as Ledger;
    token = (await ledger.tokens.create({ agent: "ann", role: "agent" }, "admin")).token;
  });
  after(async () => {
    for (const s of servers) await s.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("20 sockets that asked for /healthz once and idle do not keep a valid agent out of --max-connections 20", async () => {
    const { server, port } = await start({ maxConnections: 20, maxConnectionsPerAddress: 20 });
    const idle = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    for (const { socket } of idle) socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    // Each gets its answer and its connection closed, instead of a 65 s keep-alive.
    await Promise.race([Promise.all(idle.map((c) => c.closed)), sleep(5000).then(() => assert.fail("anonymous connections stayed open"))]);
    const r = await fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.notEqual(r.headers.get("connection"), "close", "a client with a token keeps its connection");
  });

  it("a socket that sends nothing is cut at the header timeout", async () => {
    const { port } = await start({ maxConnections: 20, headersTimeoutMs: 500 });
    const { closed } = await connect(port);
    await Promise.race([closed, sleep(5000).then(() => assert.fail("a silent socket stayed open"))]);
  });

  it("one address holds at most its share of the connections (a quarter by default); more are closed as they arrive", async () => {
    const { port } = await start({ maxConnections: 20 });
    const held = await Promise.all(Array.from({ length: 5 }, () => connect(port)));
    const extra = await connect(port);
    await Promise.race([extra.closed, sleep(3000).then(() => assert.fail("a sixth connection from one address was kept"))]);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await sleep(50);
    const again = await connect(port);
    again.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const answer = await new Promise<string>((r) => again.socket.once("data", (d) => r(d.toString())));
    assert.match(answer, /^HTTP\/1\.1 200/, "a slot freed is a slot for the address again");
    for (const c of held) c.socket.destroy();
  });
});
