/** Real processes racing for the same work on one SQLite file. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";
import { assertNoOverlappingLeases } from "../helpers/leases.ts";
import { fixture } from "../helpers/util.ts";

function node(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe("concurrency on SQLite", () => {
  let s: Sandbox;
  before(() => {
    s = sandbox();
  });
  after(() => s.cleanup());

  it("16 CLI processes claim the same WO at once: exactly one wins, the rest exit 3", async () => {
    s.run(["create", "-p", "race-cli", "--agent", "obs", "--title", "contested"]);
    const runs = await Promise.all(Array.from({ length: 16 }, (_, i) => s.spawn(["claim", "-p", "race-cli", "--id", "1", "--json"], { env: { WORKLEDGER_AGENT: `agent-${i}` } })));
    const codes = runs.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, ...Array(15).fill(3)], runs.map((r) => r.stdout + r.stderr).join("\n"));
    const losers = runs.filter((r) => r.code === 3);
    for (const r of losers) assert.equal(r.json.error.code, "LEASE_HELD");
    const winner = runs.find((r) => r.code === 0)!.json.lease.agent;
    for (const r of losers) assert.equal(r.json.error.details.holder, winner);
    const events = s.run(["history", "-p", "race-cli", "--id", "1", "--json"]).json;
    assert.equal(events.filter((e: { type: string }) => e.type === "claimed").length, 1);
  });

  it("16 processes released at the same instant: exactly one lease", async () => {
    s.run(["create", "-p", "race", "--agent", "obs", "--title", "contested"]);
    const startAt = String(Date.now() + 1500);
    const outs = await Promise.all(Array.from({ length: 16 }, (_, i) => node([fixture("claim-at.mjs"), s.db, `racer-${i}`, startAt])));
    const results = outs.map((o) => JSON.parse(o) as { won: boolean; code?: string });
    assert.equal(results.filter((r) => r.won).length, 1, outs.join("\n"));
    assert.ok(
      results.filter((r) => !r.won).every((r) => r.code === "LEASE_HELD"),
      outs.join("\n"),
    );
  });

  // 64, eight per worker: every claim --next races seven others all the way (200 cost two minutes of CLI starts, on every Node line).
  it("a pool of 8 workers drains 64 WOs with claim --next: every WO done exactly once", async () => {
    const project = "pool";
    const N = 64;
    const items = Array.from({ length: N }, (_, i) => ({ title: `task ${i}`, priority: `P${i % 4}` }));
    assert.equal(s.run(["create", "-p", project, "--agent", "obs", "--from", "-"], { input: JSON.stringify(items) }).code, 0);
    const env = { ...process.env, ...s.env, WORKLEDGER_PROJECT: project };
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => node([fixture("pool-worker.mjs"), CLI, `worker-${i}`], env)));
    const workers = outs.map((o) => JSON.parse(o) as { agent: string; done: number[]; errors: string[] });
    assert.deepEqual(
      workers.flatMap((w) => w.errors),
      [],
    );
    const done = workers.flatMap((w) => w.done).sort((a, b) => a - b);
    assert.deepEqual(
      done,
      Array.from({ length: N }, (_, i) => i + 1),
      "each WO completed by exactly one worker",
    );
    assert.ok(workers.filter((w) => w.done.length > 0).length > 1, "work was shared");

    const events = s.run(["history", "-p", project, "--limit", "10000", "--json"]).json;
    const doneEvents = events.filter((e: { type: string; data: { to?: string } }) => e.type === "status_changed" && e.data.to === "done");
    assert.equal(doneEvents.length, N);
    assert.equal(new Set(doneEvents.map((e: { wo: number }) => e.wo)).size, N);
    assert.equal(events.filter((e: { type: string }) => e.type === "claimed").length, N, "no WO was claimed twice");
    assertNoOverlappingLeases(events);
    assert.equal(s.run(["list", "-p", project, "--json"]).json.length, 0);
  });
});
