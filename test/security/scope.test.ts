/**
 * Issue 24, findings 10 and 12 over a real socket: a token limited to one
 * project learns no other project's name, neither from /metrics nor from a
 * "did you mean", and a project named like its own cannot block its writes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Ledger } from "../../src/core/ledger.ts";
import { Metrics } from "../../src/doors/http/metrics.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { openLedger } from "../../src/index.ts";

describe("a project-scoped token sees only its project (issue 24, findings 10 and 12)", () => {
  let dir: string;
  let ledger: Ledger;
  let server: RunningServer;
  const tokens: Record<string, string> = {};
  const req = async (method: string, path: string, token: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, text: await r.text() };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-scope-"));
    const metrics = new Metrics();
    ledger = (await openLedger({ db: join(dir, "l.db"), onEvents: (e) => metrics.observeEvents(e) })) as Ledger;
    for (const [name, role, project] of [
      ["root", "admin", undefined],
      ["eve", "agent", "payrolls"],
      ["pat", "reader", undefined],
    ] as const)
      tokens[name] = (await ledger.tokens.create({ agent: name, role, ...(project ? { project } : {}) }, "admin")).token;
    server = await startServer({ ledger, metrics, host: "127.0.0.1", port: 0, version: "test" });
    await ledger.create({ project: "payroll", agent: "root", role: "admin", new_project: true, items: [{ title: "salaries" }] });
    await ledger.claim({ project: "payroll", agent: "root", id: 1 });
  });
  after(async () => {
    await server.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a read of its own project before its first write names no near miss", async () => {
    const r = await req("GET", "/v1/projects/payrolls/wos", tokens.eve!);
    assert.equal(r.status, 404);
    assert.ok(!r.text.includes('payroll"') && !r.text.includes("payroll?") && !r.text.includes("did_you_mean"), r.text);
  });

  it("its first write to its own project is not refused for a near miss it cannot see", async () => {
    const r = await req("POST", "/v1/projects/payrolls/wos", tokens.eve!, { items: [{ title: "first" }] });
    assert.equal(r.status, 201, r.text);
    assert.ok(!r.text.includes('"payroll"'));
  });

  it("/metrics shows per-project series to admins, a scoped token its own project's, others none", async () => {
    const series = async (who: string) => (await req("GET", "/metrics", tokens[who]!)).text.split("\n").filter((l) => l.startsWith("workledger_attempts_total{"));
    assert.equal((await series("root")).length, 1);
    assert.deepEqual(await series("eve"), []);
    assert.deepEqual(await series("pat"), [], "an unscoped reader learns no agent names");
  });
});
