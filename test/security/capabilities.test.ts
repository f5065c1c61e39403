/**
 * Issue 25 over a real socket: an admin may limit what a token's holder can
 * declare it can do (`token create --can review`), so a read-only teammate
 * cannot claim coding work by declaring `code`; a token without `can` takes
 * what its holder declares, through the remote client as through raw HTTP.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Ledger } from "../../src/core/ledger.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { openLedger } from "../../src/index.ts";
import { RemoteLedger } from "../../src/remote/client.ts";
import { whoami } from "../../src/core/whoami.ts";
import { rejects } from "../helpers/rejects.ts";

describe("capabilities a token allows (issue 25)", () => {
  let dir: string;
  let ledger: Ledger;
  let server: RunningServer;
  const remote: Record<string, RemoteLedger> = {};
  const P = "team";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-can-"));
    ledger = (await openLedger({ db: join(dir, "l.db") })) as Ledger;
    server = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "test" });
    for (const [name, can] of [
      ["rita", ["review"]],
      ["cody", null],
    ] as const) {
      const t = await ledger.tokens.create({ agent: name, role: "agent", ...(can ? { can: [...can] } : {}) }, "admin");
      assert.deepEqual(t.can, can);
      remote[name] = new RemoteLedger(server.url, t.token);
    }
    await ledger.create({
      project: P,
      agent: "root",
      role: "admin",
      new_project: true,
      items: [
        { title: "feature", requires: ["code"], priority: "P0" },
        { title: "review it", requires: ["review"] },
      ],
    });
  });
  after(async () => {
    await server.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a holder declaring more than its token allows is refused, before anything is claimed", async () => {
    const e = await rejects(remote.rita!.claim({ project: P, agent: "x", next: true, can: ["review", "code"] }), "FORBIDDEN", /allows the capabilities review, not code/);
    assert.deepEqual(e.details, { allowed: ["review"], declared: ["review", "code"] });
    assert.equal((await ledger.get({ project: P, id: 1 })).lease, null);
  });

  it("a token an admin gave capabilities cannot set them aside with any; an unrestricted one can (MCP trial)", async () => {
    await rejects(remote.rita!.claim({ project: P, agent: "x", id: 1, any: true }), "FORBIDDEN", /capabilities were set by an admin/);
    await rejects(remote.rita!.findUnclaimed({ project: P, any: true }), "FORBIDDEN");
    assert.deepEqual(
      (await remote.cody!.findUnclaimed({ project: P, any: true })).map((w) => w.id),
      [1, 2],
    );
  });

  it("declaring nothing, it acts with the token's capabilities: the coding work is not its to take", async () => {
    assert.deepEqual((await whoami(remote.rita!, {})).can, ["review"]);
    assert.deepEqual(
      (await remote.rita!.findUnclaimed({ project: P })).map((w) => w.id),
      [2],
    );
    await rejects(remote.rita!.claim({ project: P, agent: "x", id: 1 }), "CAPABILITY_MISSING");
    assert.equal((await remote.rita!.claim({ project: P, agent: "x", next: true })).id, 2);
  });

  it("a token without capabilities takes what its holder declares", async () => {
    assert.deepEqual((await whoami(remote.cody!, { can: ["code"] })).can, ["code"]);
    assert.equal((await remote.cody!.claim({ project: P, agent: "x", next: true, can: ["code"] })).id, 1);
  });
});
