/** Agents die: SIGKILL a lease holder and a writer mid-transaction; nothing is stuck, nothing committed is lost. */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { fixture, sleep } from "../helpers/util.ts";

function start(args: string[]): { child: ChildProcess; lines: string[]; ready: Promise<void> } {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  let buf = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      lines.push(...parts);
      if (lines.length) resolve();
    });
    child.on("exit", (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  return { child, lines, ready };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

function integrity(db: string): string {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.pragma("integrity_check", { simple: true }) as string;
  } finally {
    conn.close();
  }
}

describe("crashes", () => {
  let s: Sandbox;
  before(() => {
    s = sandbox();
  });
  after(() => s.cleanup());

  it("a SIGKILLed lease holder's WO is claimable again once its TTL passes", async () => {
    s.run(["create", "-p", "crash", "--agent", "obs", "--title", "fragile"]);
    // A TTL far longer than the test, so "still held" never depends on how fast the machine is;
    // the TTL's passing is then made to happen by moving the lease's expiry into the past.
    const holder = start([fixture("hold-lease.mjs"), s.db, "crash", "10m"]);
    await holder.ready;
    while (holder.lines.length < 2) await sleep(50); // at least one renewal happened
    assert.equal(s.run(["claim", "-p", "crash", "--id", "1", "--agent", "rescuer"]).code, 3, "held while the agent lives");
    await killed(holder.child);
    assert.equal(s.run(["claim", "-p", "crash", "--id", "1", "--agent", "rescuer"]).code, 3, "still held until the TTL passes");
    const lastExpiry = new Date(Date.now() - 1000).toISOString();
    const conn = new Database(s.db);
    conn.prepare("UPDATE work_orders SET lease_expires_at = ? WHERE project = 'crash' AND id = 1").run(lastExpiry);
    conn.close();
    const rescued = s.run(["claim", "-p", "crash", "--id", "1", "--agent", "rescuer", "--json"]);
    assert.equal(rescued.code, 0, rescued.stdout);
    assert.equal(rescued.json.lease.agent, "rescuer");
    assert.ok(rescued.json.lease.claimed_at >= lastExpiry, "taken only after the dead holder's TTL");
    assert.ok(rescued.json.lease.token > JSON.parse(holder.lines[0]!).token, "new fencing token");
    const types = s.run(["history", "-p", "crash", "--id", "1", "--json"]).json.map((e: { type: string }) => e.type);
    assert.ok(types.includes("expired"));
    assert.equal(integrity(s.db), "ok");
  });

  it("SIGKILL mid-write loses no acknowledged note and leaves the file intact", async () => {
    s.run(["create", "-p", "writes", "--agent", "obs", "--title", "busy"]);
    for (let round = 0; round < 3; round++) {
      const writer = start([fixture("note-writer.mjs"), s.db, "writes"]);
      await writer.ready;
      await sleep(150 + round * 100);
      await killed(writer.child);
      assert.equal(integrity(s.db), "ok");
      const stored = new Set(s.run(["get", "-p", "writes", "--id", "1", "--json"]).json.notes.map((n: { id: number }) => n.id));
      for (const id of writer.lines.filter(Boolean).map(Number)) assert.ok(stored.has(id), `acknowledged note ${id} survived`);
    }
    const doctor = s.run(["doctor", "--agent", "d", "--json"]);
    assert.equal(doctor.code, 0, doctor.stdout);
  });
});
