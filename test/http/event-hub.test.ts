/**
 * The shared event reader (issue 13): every stream gets exactly the events
 * after its position, in stream order, for its project, however it starts,
 * lags or resumes, while the log is read once per tick for all of them. The
 * fake log puts seq out of order along the stream, as PostgreSQL does.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventHub, type Subscription } from "../../src/doors/http/event-hub.ts";
import type { LedgerEvent } from "../../src/core/types.ts";

function fakeLog() {
  const log: LedgerEvent[] = [];
  let reads = 0;
  let nextSeq = 1;
  const ledger = {
    async events(q: { project?: string; after?: number; limit?: number }) {
      reads++;
      const after = q.after ?? 0;
      const from = after === 0 ? 0 : log.findIndex((e) => e.seq === after) + 1;
      assert.ok(after === 0 || from > 0, `cursor ${after} is an event of the log`);
      return log
        .slice(from)
        .filter((e) => q.project === undefined || e.project === q.project)
        .slice(0, q.limit ?? 1000);
    },
    async lastEventSeq() {
      return log.at(-1)?.seq ?? 0;
    },
  };
  /** Appends n events; seqs are handed out in blocks whose order along the stream is shuffled. */
  const append = (n: number, rand: () => number) => {
    const seqs = Array.from({ length: n }, () => nextSeq++);
    for (let i = seqs.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [seqs[i], seqs[j]] = [seqs[j]!, seqs[i]!];
    }
    for (const seq of seqs) log.push({ seq, project: rand() < 0.5 ? "a" : "b", wo: 1, type: "note_added", agent: "x", revision: 1, at: "", data: {} });
  };
  return { log, ledger, append, reads: () => reads };
}

function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe("event hub", () => {
  for (const seed of [7, 11, 2026])
    it(`delivers every event once, in order, per project, to streams that start, lag and resume anywhere (seed ${seed})`, { timeout: 60_000 }, async () => {
      const rand = lcg(seed);
      const { log, ledger, append } = fakeLog();
      const stop = new AbortController();
      const hub = new EventHub(ledger, 1, stop.signal);
      append(300, rand);
      const streams: { sub: Subscription; project: string | undefined; start: number; got: LedgerEvent[]; slow: boolean }[] = [];
      const open = (project: string | undefined, startIndex: number, slow = false) => {
        const after = startIndex < 0 ? 0 : log[startIndex]!.seq;
        streams.push({ sub: hub.subscribe({ project, after, allowed: async () => true, authKey: "t" }), project, start: startIndex + 1, got: [], slow });
      };
      open(undefined, -1);
      open("a", 10);
      open("b", 299);
      for (let round = 0; round < 60; round++) {
        append(Math.floor(rand() * (round % 10 === 0 ? 1500 : 40)), rand);
        if (round % 7 === 0) open(rand() < 0.3 ? undefined : rand() < 0.5 ? "a" : "b", Math.floor(rand() * log.length) - 1, round % 14 === 0);
        await new Promise((r) => setTimeout(r, 5));
        for (const s of streams) if (!s.slow || round % 20 === 19) s.got.push(...s.sub.take());
      }
      // Let everyone drain.
      for (let i = 0; i < 400 && streams.some((s) => s.got.length + 0 < log.slice(s.start).filter((e) => !s.project || e.project === s.project).length); i++) {
        await new Promise((r) => setTimeout(r, 5));
        for (const s of streams) s.got.push(...s.sub.take());
      }
      stop.abort();
      for (const [i, s] of streams.entries()) {
        const want = log
          .slice(s.start)
          .filter((e) => !s.project || e.project === s.project)
          .map((e) => e.seq);
        assert.deepEqual(
          s.got.map((e) => e.seq),
          want,
          `stream ${i} (${s.project ?? "all"}, from ${s.start}${s.slow ? ", slow" : ""})`,
        );
      }
      assert.equal(hub.size, 0, "stopping the server ends every stream");
    });

  it("reads the log once per tick however many streams follow it, and ends streams whose token is refused", async () => {
    const { ledger, append, reads } = fakeLog();
    const stop = new AbortController();
    const hub = new EventHub(ledger, 20, stop.signal);
    let revoked = false;
    const subs = Array.from({ length: 200 }, (_, i) => hub.subscribe({ project: undefined, after: 0, allowed: async () => !(revoked && i % 2), authKey: String(i % 2) }));
    for (let i = 0; i < 10; i++) {
      append(5, Math.random);
      await new Promise((r) => setTimeout(r, 25));
    }
    const perStream = reads() / subs.length;
    assert.ok(perStream < 1, `${reads()} reads for ${subs.length} streams over about 10 ticks`);
    revoked = true;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(subs.filter((s) => s.open).length, 100);
    stop.abort();
  });

  it("a stream that stops reading is not read for again and again, and is ended after the stall time (issue 24, finding 9)", async () => {
    const { log, ledger, append, reads } = fakeLog();
    append(20_000, lcg(3));
    const stop = new AbortController();
    const hub = new EventHub(ledger, 5, stop.signal, () => undefined, 1500);
    // Opened from the start of a long log, never read (a client that does not read its socket).
    const opened = Date.now();
    const stalled = hub.subscribe({ project: undefined, after: 0, allowed: async () => true, authKey: "t" });
    await new Promise((r) => setTimeout(r, 300));
    const [before, from] = [reads(), Date.now()];
    await new Promise((r) => setTimeout(r, 300));
    // The hub's own tick reads at most once per tick (a tick waits 5 ms); the stalled stream adds nothing while its queue waits.
    const ticks = (Date.now() - from) / 5;
    assert.ok(reads() - before <= ticks + 2, `${reads() - before} reads in ${Date.now() - from} ms`);
    if (Date.now() - opened < 1500) assert.equal(stalled.open, true);
    for (let waited = 0; stalled.open && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.equal(stalled.open, false, "ended after the stall time without taking");
    assert.ok(Date.now() - opened >= 1500);
    assert.equal(hub.size, 0);
    // A reading stream is never ended, however long it follows.
    const reading = hub.subscribe({ project: undefined, after: log.at(-1)!.seq, allowed: async () => true, authKey: "t" });
    for (let i = 0; i < 10; i++) {
      append(1, Math.random);
      await new Promise((r) => setTimeout(r, 60));
      reading.take();
    }
    assert.equal(reading.open, true);
    stop.abort();
  });
});
