/** The dashboard's pure logic (filters in the URL, lease countdowns), without a browser. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toPublic } from "../../src/core/rules.ts";
import type { WorkOrder } from "../../src/core/types.ts";
import { byUrgency, columns, filtersToQuery, matches, parseFilters } from "../../src/doors/web/client/filters.ts";
import { ago, countdown, leaseState } from "../../src/doors/web/client/time.ts";
import { depths, flowShapes, leftBehind, timeline } from "../../src/doors/web/client/layout.ts";

/** A new WO as the core makes one (its defaults), with `over` on top. */
const wo = (over: Partial<WorkOrder>): WorkOrder => ({ ...toPublic(create("p", 1, { title: "Fix tokenizer" }, "o", "2026-01-01T00:00:00.000Z").wo), ...over });

describe("dashboard filters", () => {
  it("round-trips through the URL and drops values that are not allowed", () => {
    const f = parseFilters(new URLSearchParams("status=blocked&stage=ready&label=bug&requires=db&agent=a&priority=P1&q=crash&cancelled=1"));
    assert.deepEqual(f, { status: "blocked", stage: "ready", label: "bug", requires: "db", agent: "a", priority: "P1", q: "crash", cancelled: true });
    assert.equal(filtersToQuery(f), "?status=blocked&stage=ready&label=bug&requires=db&agent=a&priority=P1&q=crash&cancelled=1");
    assert.deepEqual(parseFilters(new URLSearchParams("status=bogus&priority=P9&q=%20%20")), {
      status: undefined,
      stage: undefined,
      label: undefined,
      requires: undefined,
      agent: undefined,
      priority: undefined,
      q: undefined,
      cancelled: false,
    });
    assert.equal(filtersToQuery(parseFilters(new URLSearchParams(""))), "");
  });

  it("shows four columns, cancelled only on request, one column for a status filter", () => {
    assert.deepEqual(columns(parseFilters(new URLSearchParams())), ["open", "claimed", "blocked", "done"]);
    assert.deepEqual(columns(parseFilters(new URLSearchParams("cancelled=1"))), ["open", "claimed", "blocked", "done", "cancelled"]);
    assert.deepEqual(columns(parseFilters(new URLSearchParams("status=claimed"))), ["claimed"]);
  });

  it("matches stage, label, requirement, holder, priority and free text (including WO-12 references)", () => {
    const held = wo({
      id: 12,
      stage: "ready",
      requires: ["db"],
      labels: ["bug"],
      priority: "P1",
      files: ["src/lexer/**"],
      lease: { agent: "agent-a", token: 1, claimed_at: "", expires_at: "", renewed_at: null, hold_until: null },
    });
    const f = (q: string) => parseFilters(new URLSearchParams(q));
    assert.ok(matches(held, f("label=bug&agent=agent-a&priority=P1")));
    assert.ok(!matches(held, f("label=docs")));
    assert.ok(matches(held, f("stage=ready&requires=db")));
    assert.ok(!matches(held, f("stage=enrich")));
    assert.ok(!matches(held, f("requires=code")));
    assert.ok(!matches(held, f("agent=agent-b")));
    assert.ok(!matches(held, f("priority=P0")));
    for (const q of ["WO-12", "wo-12", "12", "TOKENIZER", "lexer", "agent-a"]) assert.ok(matches(held, f(`q=${q}`)), q);
    assert.ok(!matches(held, f("q=13")));
    assert.ok(!matches(held, f("q=parser")));
  });

  it("orders cards most urgent first, then oldest", () => {
    const list = [wo({ id: 3, priority: "P2" }), wo({ id: 2, priority: "P0" }), wo({ id: 1, priority: "P2" })].sort(byUrgency);
    assert.deepEqual(
      list.map((w) => w.id),
      [2, 1, 3],
    );
  });
});

describe("dashboard lease countdown", () => {
  const at = (s: number) => Date.parse("2026-01-01T00:00:00.000Z") + s * 1000;
  const lease = { claimed_at: "2026-01-01T00:00:00.000Z", renewed_at: null, expires_at: "2026-01-01T00:30:00.000Z" };

  it("warns in the last quarter of the lease, at most in its last five minutes, and expires on time", () => {
    assert.equal(leaseState(lease, at(0)).state, "live");
    assert.equal(leaseState(lease, at(1499)).state, "live");
    assert.equal(leaseState(lease, at(1501)).state, "warn");
    assert.equal(leaseState(lease, at(1800)).state, "expired");
    const short = { claimed_at: "2026-01-01T00:00:00.000Z", renewed_at: null, expires_at: "2026-01-01T00:00:04.000Z" };
    assert.equal(leaseState(short, at(2.9)).state, "live");
    assert.equal(leaseState(short, at(3.1)).state, "warn");
    // The quarter is of the lease since its last renewal: 10 minutes here, so 200 s left is no warning yet.
    assert.equal(leaseState(lease, at(1600)).state, "warn");
    assert.equal(leaseState({ ...lease, renewed_at: "2026-01-01T00:20:00.000Z" }, at(1600)).state, "live");
  });

  it("says how long is left, rounded up, and how long ago things happened", () => {
    assert.equal(countdown(0), "expired");
    assert.equal(countdown(1), "expires in 1s");
    assert.equal(countdown(61_000), "expires in 1m 01s");
    assert.equal(countdown(2 * 3600_000), "expires in 2h");
    assert.equal(ago("2026-01-01T00:00:00.000Z", at(0.5)), "just now");
    assert.equal(ago("2026-01-01T00:00:00.000Z", at(125)), "2m 05s ago");
    assert.equal(ago("2026-01-01T00:00:00.000Z", at(3 * 86400)), "3d ago");
  });
});

describe("dependency graph (issue 28)", () => {
  it("puts each work order one column right of its deepest dependency; dependencies not shown do not count", () => {
    const graph = new Map([
      [1, { depends_on: [] }],
      [2, { depends_on: [1] }],
      [3, { depends_on: [1, 2] }],
      [4, { depends_on: [99] }],
      [5, { depends_on: [3, 4] }],
    ]);
    assert.deepEqual(
      [...depths(graph)].sort((a, b) => a[0] - b[0]),
      [
        [1, 0],
        [2, 1],
        [3, 2],
        [4, 0],
        [5, 3],
      ],
    );
  });
});

describe("lease timeline (issue 28)", () => {
  it("gives each agent a lane, clips bars to the window (a running one reaches now), and links a WO passing from one agent to the next", () => {
    const t = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
    const since = Date.parse(t(0));
    const now = Date.parse(t(100));
    const { lanes, bars, handoffs } = timeline(
      [
        { wo: 1, token: 1, agent: "bob", started_at: t(-20), ended_at: t(10), outcome: "expired" },
        { wo: 1, token: 2, agent: "alice", started_at: t(20), ended_at: t(50), outcome: "done" },
        { wo: 2, token: 1, agent: "bob", started_at: t(60), ended_at: null, outcome: null },
        { wo: 2, token: 2, agent: "bob", started_at: t(60), ended_at: null, outcome: null },
      ],
      since,
      now,
    );
    assert.deepEqual(lanes, ["alice", "bob"]);
    assert.deepEqual(
      bars.map((b) => [b.wo, b.lane, b.from, b.to, b.outcome]),
      [
        [1, 1, 0, 0.1, "expired"],
        [1, 0, 0.2, 0.5, "done"],
        [2, 1, 0.6, 1, "running"],
        [2, 1, 0.6, 1, "running"],
      ],
    );
    assert.deepEqual(
      handoffs.map((h) => [h.wo, h.from.agent, h.to.agent]),
      [[1, "bob", "alice"]],
      "a WO taken again by the same agent is no hand-off",
    );
  });
});

describe("flow chart (issue 28)", () => {
  it("scales bars and the queue line to the largest count, the queue at the window's start included", () => {
    const point = (created: number, done: number, queue: number) => ({ at: "t", created, done, expired: 0, queue });
    const f = flowShapes({ queue_at_start: 8, points: [point(4, 0, 6), point(0, 2, 4)] }, 100, 40);
    assert.equal(f.max, 8, "the start's queue is the largest");
    assert.deepEqual(
      f.bars.map((b) => [b.x, b.width, b.heights.created, b.heights.done]),
      [
        [0, 50, 20, 0],
        [50, 50, 0, 10],
      ],
    );
    assert.equal(f.queue, "0,0.0 50.0,10.0 100.0,20.0");
    assert.equal(flowShapes({ queue_at_start: 0, points: [] }, 100, 40).queue, "0,40.0", "an empty window is a flat line");
  });
});

describe("what each attempt left behind (issue 28)", () => {
  it("its agent's notes while it ran, and the checkpoints under its lease", () => {
    const attempts = [
      { token: 1, agent: "a", started_at: "t1", ended_at: "t3" },
      { token: 2, agent: "b", started_at: "t4", ended_at: null },
    ];
    const notes = [
      { agent: "a", created_at: "t2", body: "a's" },
      { agent: "b", created_at: "t2", body: "b before its claim" },
      { agent: "a", created_at: "t5", body: "a after its lease" },
      { agent: "b", created_at: "t6", body: "b's" },
    ];
    const left = leftBehind(attempts, notes, [{ token: 2, commit: "c" }]);
    assert.deepEqual(
      [...left].map(([t, l]) => [t, l.notes.map((n) => n.body), l.checkpoints.map((k) => k.commit)]),
      [
        [1, ["a's"], []],
        [2, ["b's"], ["c"]],
      ],
    );
  });
});
