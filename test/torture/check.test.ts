/** The history checker must catch each kind of violation it claims to (a checker that never fails proves nothing). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LedgerEvent, WorkOrder } from "../../src/core/types.ts";
import { check, type Final, type Op } from "./check.ts";

let seq = 0;
const ev = (wo: number, type: LedgerEvent["type"], at: string, data: Record<string, unknown> = {}): LedgerEvent => ({
  seq: ++seq,
  project: "p",
  wo,
  type,
  agent: "a",
  revision: 1,
  at,
  data,
});
const wo = (id: number, status: WorkOrder["status"] = "done") => ({ id, status, title: `t${id}`, lease: null }) as unknown as WorkOrder;
const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const base = (events: LedgerEvent[], wos = [wo(1)]): Final => ({ events, wos, notes: [], contexts: [], integrity: [] });
const claim = (token: number, at: number, ttl = 10) => ev(1, "claimed", T(at), { token, expires_at: T(at + ttl) });
const done = (token: number, at: number) => ev(1, "status_changed", T(at), { from: "claimed", to: "done", lease_ended: true, token });

describe("history checker", () => {
  it("accepts a clean history", () => {
    const ops: Op[] = [
      { w: "a", op: "claim", ok: true, start: 0, end: 1, wo: 1, token: 1 },
      { w: "a", op: "done", ok: true, start: 2, end: 3, wo: 1, token: 1 },
    ];
    assert.deepEqual(check(ops, base([claim(1, 0), done(1, 5)]), { allDone: true }), []);
  });
  it("catches overlapping leases", () => {
    assert.match(check([], base([claim(1, 0), claim(2, 3), done(2, 5)]), { allDone: true })[0]!, /claimed \(token 2\).*while token 1 was held/);
  });
  it("catches a claim of a lease that had not lapsed, and tokens that do not grow", () => {
    const v = check([], base([claim(2, 0), ev(1, "expired", T(4), { token: 2 }), claim(1, 5)]), { allDone: false });
    assert.ok(v.some((m) => /recorded expired .* before its expiry/.test(m)));
    assert.ok(v.some((m) => /token 1 does not grow past 2/.test(m)));
  });
  it("catches a write carrying a stale token, and a write after expiry", () => {
    assert.match(check([], base([claim(1, 0), ev(1, "renewed", T(1), { token: 7, expires_at: T(20) })]), { allDone: false })[0]!, /renewed with token 7 but the live lease is 1/);
    assert.match(check([], base([claim(1, 0), done(1, 11)]), { allDone: true })[0]!, /after lease 1 expired/);
  });
  it("catches double completion and completion without a lease", () => {
    const v = check([], base([claim(1, 0), done(1, 2), ev(1, "status_changed", T(3), { from: "done", to: "done" })]), { allDone: true });
    assert.ok(v.some((m) => /without a live lease/.test(m)));
    assert.ok(v.some((m) => /marked done 2 times/.test(m)));
  });
  it("catches lost acknowledged writes, duplicate creates, zombies and unclean failures", () => {
    const ops: Op[] = [
      { w: "a", op: "note", ok: true, start: 0, end: 1, id: 5 },
      { w: "a", op: "context_put", ok: true, start: 0, end: 1, id: 9 },
      { w: "a", op: "create", ok: true, start: 0, end: 1, ids: [42], key: "k", count: 1 },
      { w: "a", op: "claim", ok: false, start: 0, end: 1, code: "INTERNAL" },
    ];
    const f = base([], [wo(1, "open"), { ...wo(2), title: "made by k x" } as WorkOrder, { ...wo(3), title: "made by k y" } as WorkOrder]);
    const v = check(ops, f, { allDone: true }).join("\n");
    assert.match(v, /note 5 is lost/);
    assert.match(v, /context 9 is lost/);
    assert.match(v, /WO-42 \(key k\) is lost/);
    assert.match(v, /idempotency key k: 2 WOs for a request of 1/);
    assert.match(v, /WO-1 is still open after the drain/);
    assert.match(v, /failed with INTERNAL/);
  });
  it("catches a resent write applied twice", () => {
    const f = { ...base([], []), notes: [1, 2].map((id) => ({ id, body: "progress by a #3" })), contexts: [{ id: 1, body: "context from a #4" }] };
    assert.deepEqual(check([], f, { allDone: true }), ['note "progress by a #3" was written 2 times']);
  });
});
