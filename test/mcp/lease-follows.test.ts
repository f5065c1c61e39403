/**
 * DESIGN.md §9 through `workledger mcp` (the real server over stdio): an
 * agent that never passes a token and never renews keeps its guarantees.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { connectMcp } from "../helpers/mcp.ts";
import { sleep } from "../helpers/util.ts";

describe("MCP: the lease follows the agent (issue 15)", { concurrency: true }, () => {
  let s: Sandbox;
  const P = "mcpl";

  const connect = (agent: string) => connectMcp(s, agent, { WORKLEDGER_PROJECT: P });
  const newWo = (title: string): number => s.run(["create", "-p", P, "--agent", "obs", "--title", title, "--json"]).json.id;
  const claimBy = (agent: string, id: number) => s.run(["claim", "-p", P, "--agent", agent, "--id", String(id), "--json"], { env: { WORKLEDGER_TOKEN_MEMORY: "off" } });

  /** A paused agent: its server (keep-alive included) stops for `ms`, past the lease's TTL, while `rival` takes the WO; then it resumes. */
  const pausedWhileTaken = async (pid: number, ms: number, rival: string, id: number) => {
    process.kill(pid, "SIGSTOP");
    await sleep(ms);
    assert.equal(claimBy(rival, id).code, 0);
    process.kill(pid, "SIGCONT");
  };

  before(() => {
    s = sandbox();
    s.run(["init"]);
  });
  after(() => s.cleanup());

  it("a connected agent that calls no tool past the project's idle limit loses its lease, and is told why; one that keeps calling keeps it (issue 25)", async () => {
    s.run(["project", "create", "mcpidle", "--agent", "root"]);
    assert.equal(s.run(["project", "set", "mcpidle", "--as-admin", "--agent", "root", "--idle-limit", "3s"]).code, 0);
    const [hung, busy] = ["hung", "busy"].map((t) => s.run(["create", "-p", "mcpidle", "--agent", "obs", "--title", t, "--json"]).json.id as number) as [number, number];
    const [h, b] = await Promise.all(["hung-mcp", "busy-mcp"].map((agent) => connectMcp(s, agent, { WORKLEDGER_PROJECT: "mcpidle" })));
    try {
      assert.equal((await h!.call("claim", { id: hung, ttl: "2s" })).isError, false);
      assert.equal((await b!.call("claim", { id: busy, ttl: "2s" })).isError, false);
      // The busy one calls a tool every half second while the rival tries for the hung one's WO (until it gets it: a loaded machine is slow).
      const rivalClaims = (id: number) => s.run(["claim", "-p", "mcpidle", "--agent", "rival", "--id", String(id), "--json"], { env: { WORKLEDGER_TOKEN_MEMORY: "off" } });
      let taken = rivalClaims(hung);
      for (const end = Date.now() + 60_000; taken.code !== 0 && Date.now() < end; taken = rivalClaims(hung)) {
        await sleep(500);
        await b!.call("whoami");
      }
      assert.equal(taken.code, 0, taken.stdout);
      const refused = rivalClaims(busy);
      assert.equal(refused.json.error.details.holder, "busy-mcp");
      const back = await h!.call("add_note", { id: hung, body: "still here" });
      assert.equal(back.body.error.code, "LEASE_LOST");
      assert.match(JSON.stringify(back.extra), /went back to the pool: no activity for \d+s \(the project's idle limit is 3s\)/);
      // whoami says what it lost and why (session 19 known item: it listed no leases and nothing else).
      const me = (await h!.call("whoami")).body as { leases: unknown[]; lapsed: { id: number; why: string }[] };
      assert.deepEqual(me.leases, []);
      assert.deepEqual(
        me.lapsed.map((l) => [l.id, l.why]),
        [[hung, "idle"]],
      );
    } finally {
      await Promise.all([h!.client.close(), b!.client.close()]);
    }
  });

  it("a session that holds a 3s lease and stays idle for 15s still holds it; 3s after its client disconnects the WO is claimable", async () => {
    const id = newWo("kept alive");
    const a = await connect("idle-agent");
    assert.equal((await a.call("claim", { id, ttl: "3s" })).isError, false);
    await sleep(15_000);
    const refused = claimBy("other", id);
    assert.equal(refused.code, 3, refused.stdout);
    assert.equal(refused.json.error.details.holder, "idle-agent");
    await a.client.close();
    await sleep(3_500);
    assert.equal(claimBy("other", id).code, 0, "the lease lapsed one TTL after the client left");
  });

  it("a SIGKILLed server stops renewing: its lease lapses after the TTL", async () => {
    const id = newWo("killed");
    const a = await connect("doomed-agent");
    await a.call("claim", { id, ttl: "3s" });
    await sleep(2_500);
    process.kill(a.transport.pid!, "SIGKILL");
    assert.equal(claimBy("other", id).code, 3, "renewed while alive");
    await sleep(4_000);
    assert.equal(claimBy("other", id).code, 0);
    await a.client.close().catch(() => undefined);
  });

  it("a new session under the same name that claims its dead predecessor's WO is told the lease is its own, and keeps it alive from then on (tenth MCP trial)", async () => {
    const id = newWo("restarted");
    const a = await connect("phoenix");
    // 6s: time for a new session to start and adopt it on a loaded machine (CI); it must outlive that, not the sleep below.
    assert.equal((await a.call("claim", { id, ttl: "6s" })).isError, false);
    process.kill(a.transport.pid!, "SIGKILL");
    await a.client.close().catch(() => undefined);
    const b = await connect("phoenix");
    try {
      // Listed, but not kept alive by this session until it claims again (twelfth MCP trial: notes did not keep it).
      const who = await b.call("whoami");
      assert.deepEqual(
        who.body.leases.map((l: { id: number; kept_alive: boolean }) => [l.id, l.kept_alive]),
        [[id, false]],
      );
      // Named with its project: whoami lists every project's leases (nineteenth MCP trial: a bare id claimed another project's WO).
      const project = who.body.leases[0].project as string;
      assert.match(
        who.body.hint,
        new RegExp(
          `${project} WO-${id}: taken by another session under your name, and not kept alive by this one: claim each again with its project \\(claim project=${project} id=${id};`,
        ),
      );
      const again = await b.call("claim", { id });
      assert.equal(again.body.error.code, "LEASE_HELD");
      assert.match(again.body.error.message, /is already yours: you hold its lease \(token 1\)/);
      assert.match(again.body.error.hint, /carry on working on it/);
      assert.deepEqual(
        (await b.call("whoami")).body.leases.map((l: { kept_alive: boolean }) => l.kept_alive),
        [true],
      );
      // Adopted: renewed by this session past the 6s the dead one's lease had.
      await sleep(7_000);
      const note = await b.call("add_note", { id, body: "still mine" });
      assert.equal(note.isError, false, JSON.stringify(note.body));
      assert.equal(claimBy("other", id).code, 3, "still held, kept alive by the new session");
    } finally {
      await b.client.close();
    }
  });

  it("the session's token travels by itself: a paused session is refused after the same agent re-took the lease elsewhere, and keeps being refused", async () => {
    const id = newWo("same agent, two sessions");
    const first = await connect("twin");
    assert.equal((await first.call("claim", { id, ttl: "2s" })).body.lease.token, 1);
    process.kill(first.transport.pid!, "SIGSTOP"); // a paused agent: its keep-alive stops too
    await sleep(2_500);
    const second = await connect("twin");
    assert.equal((await second.call("claim", { id })).body.lease.token, 2);
    process.kill(first.transport.pid!, "SIGCONT");
    // "twin" holds the lease, so the name alone would let the paused session through; its remembered token does not.
    for (let i = 0; i < 2; i++) {
      const r = await first.call("update", { id, status: "done" });
      assert.equal(r.isError, true, JSON.stringify(r.body));
      assert.equal(r.body.error.code, "LEASE_LOST");
      assert.match(r.body.error.message, /token 1 is not the lease on WO-\d+: twin holds it under token 2/);
    }
    // Its words would pass for the live session's (issue 23, eighth trials): notes and linked context are refused too.
    for (const [tool, args] of [
      ["add_note", { id, body: "pid.sh is done, just release it" }],
      ["context_put", { id, body: "done and verified, just release done" }],
    ] as const) {
      const r = await first.call(tool, args);
      assert.equal(r.body.error?.code, "LEASE_LOST", `${tool}: ${JSON.stringify(r.body)}`);
    }
    // Its spend is its own attempt's, not the live session's, and teaches the session nothing (ninth trials: after a spend
    // the stale session forgot its token and acted as the live one).
    assert.equal((await first.call("spend", { id, tokens_in: 50 })).body.attempt.token, 1);
    assert.equal((await first.call("add_note", { id, body: "after a spend" })).body.error?.code, "LEASE_LOST");
    // Told to leave it to the other session, and a claim does not take it over (twenty-first MCP trial: whoami said
    // "claim it again", the claim said "carry on", and the fenced session released the live one's WO).
    assert.match(
      (await first.call("whoami")).body.hint,
      /your lease in this session ended, and another session under your name claimed it again \(lease 2\): leave it to that session/,
    );
    const again = await first.call("claim", { id });
    assert.equal(again.body.error?.code, "LEASE_HELD");
    assert.match(again.body.error.message, /claimed again by another session under your name after your lease 1 ended/);
    assert.equal((await first.call("release", { id })).body.error?.code, "LEASE_LOST", "still fenced");
    assert.equal(s.run(["get", "-p", P, "--id", String(id), "--json"]).json.status, "claimed");
    assert.equal((await second.call("release", { id, status: "done" })).isError, false, "the current session's token is its own");
    await first.client.close();
    await second.client.close();
  });

  it("a failed renewal is reported in the next tool result", async () => {
    const id = newWo("capped");
    const a = await connect("capped-agent");
    await a.call("claim", { id, ttl: "3s" });
    await pausedWhileTaken(a.transport.pid!, 3_500, "taker", id);
    await sleep(1_500);
    const r = await a.call("list", {});
    assert.equal(r.isError, false);
    assert.match(JSON.stringify(r.extra), /keep-alive could not renew WO-\d+ in mcpl: LEASE_LOST/);
    await a.client.close();
  });

  it("a stale session's renew, release, status change and field edit fail with LEASE_LOST, with no token ever passed", async () => {
    const id = newWo("fenced");
    const a = await connect("forgetful");
    await a.call("claim", { id, ttl: "2s" });
    await pausedWhileTaken(a.transport.pid!, 2_500, "rival", id);
    for (const [tool, args] of [
      ["renew", { id }],
      ["release", { id, status: "done" }],
      ["update", { id, status: "done" }],
      ["update", { id, fields: { title: "stale" } }],
    ] as const) {
      const r = await a.call(tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)}`);
      assert.equal(r.body.error.code, "LEASE_LOST", `${tool}: ${JSON.stringify(r.body)}`);
    }
    const wo = s.run(["get", "-p", P, "--id", String(id), "--json"]).json;
    assert.equal(wo.lease.agent, "rival");
    assert.equal(wo.title, "fenced");
    await a.client.close();
  });
});
