/**
 * One poller per server for every event stream it serves. Servers are
 * stateless, so streams learn of events by reading the log; done per stream,
 * 500 open streams meant 2,000 reads a second. Here one loop reads the whole
 * log once per tick into a ring of recent events and hands each stream what
 * matches its project.
 *
 * A stream that starts (or resumes) outside the ring, or falls out of it by
 * reading too slowly, reads the log on its own from its position until that
 * position is an event the ring holds, and from there follows the ring. Its
 * own reads take every project's events (keeping only its own), so its
 * position is always an event of the log, which the ring reaches in turn.
 * The ring is a stretch of the log in stream order (on PostgreSQL seq is not
 * monotonic along it, see storage/postgres/tx.ts), so positions are found by
 * their place in the ring, never compared by seq.
 */
import type { LedgerApi } from "../../core/api.js";
import type { LedgerEvent } from "../../core/types.js";

/** Events read per tick, by the loop or a stream catching up. */
const BATCH = 500;
/** Recent events kept for streams that join or lag a little. */
const RING = 5000;
/** Events waiting for one slow stream before it is sent back to catching up on its own. */
const MAX_QUEUE = 5000;
/** A stream with events waiting that takes none for this long is ended (its client resumes with Last-Event-ID). */
export const STALL_MS = 60_000;

export interface Subscription {
  /** The next events for this stream, oldest first; empty when there are none yet. */
  take(): LedgerEvent[];
  /** Resolves when events arrive or the stream should end (whichever first), or after `ms`. */
  wait(ms: number): Promise<void>;
  /** False once the hub ended the stream (token no longer allowed, the log unreadable, server stopping). */
  readonly open: boolean;
  close(): void;
}

interface Sub {
  project: string | undefined;
  /** Seq of the last event of the log this stream has been served up to (any project's): where it resumes. */
  pos: number;
  /** Seq of the last event the stream took (wrote out). */
  taken: number;
  /** Place in the ring of the last event considered for it, while it follows the ring. */
  at: number | undefined;
  queue: LedgerEvent[];
  /** When it last took events (or subscribed): a stream that stops reading is ended after STALL_MS. */
  tookAt: number;
  open: boolean;
  allowed: () => Promise<boolean>;
  /** Groups streams of one token, so the loop asks about each token once per tick. */
  authKey: string;
  wake: (() => void) | undefined;
}

export class EventHub {
  private readonly subs = new Set<Sub>();
  private ring: LedgerEvent[] = [];
  /** Place (in the log since the hub started) of ring[0]. */
  private first = 0;
  /** Seq of the last event the loop read, or null before its first read. */
  private cursor: number | null = null;
  /** Seq of the event just before ring[0] (where the loop started, or the last one dropped). */
  private base: number | null = null;
  private running = false;

  constructor(
    private readonly ledger: Pick<LedgerApi, "events" | "lastEventSeq">,
    private readonly pollMs: number,
    private readonly stop: AbortSignal,
    private readonly log: (line: string) => void = (l) => process.stderr.write(l),
    private readonly stallMs = STALL_MS,
  ) {
    stop.addEventListener("abort", () => this.subs.forEach((s) => this.end(s)), { once: true });
  }

  /** Streams served now. */
  get size(): number {
    return this.subs.size;
  }

  subscribe(opts: { project: string | undefined; after: number; allowed: () => Promise<boolean>; authKey: string }): Subscription {
    const sub: Sub = {
      project: opts.project,
      pos: opts.after,
      taken: opts.after,
      at: undefined,
      queue: [],
      tookAt: Date.now(),
      open: !this.stop.aborted,
      allowed: opts.allowed,
      authKey: opts.authKey,
      wake: undefined,
    };
    if (sub.open) this.subs.add(sub);
    if (!this.running) void this.loop();
    return {
      take: () => {
        const out = sub.queue.splice(0);
        if (out.length) sub.taken = (out.at(-1) as LedgerEvent).seq;
        sub.tookAt = Date.now();
        return out;
      },
      wait: (ms) =>
        sub.queue.length || !sub.open
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const timer = setTimeout(() => done(), ms);
              const done = () => {
                clearTimeout(timer);
                sub.wake = undefined;
                resolve();
              };
              sub.wake = done;
            }),
      get open() {
        return sub.open;
      },
      close: () => this.end(sub),
    };
  }

  private end(sub: Sub): void {
    sub.open = false;
    this.subs.delete(sub);
    sub.wake?.();
  }

  private get head(): number {
    return this.first + this.ring.length - 1;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.subs.size && !this.stop.aborted) {
        const full = await this.tick();
        if (!full) await new Promise((r) => setTimeout(r, this.pollMs));
      }
    } catch (e) {
      // The log cannot be read: end every stream; clients resume with Last-Event-ID.
      this.log(`workledger serve: event streams ended: ${(e as Error)?.message ?? String(e)}\n`);
      this.subs.forEach((s) => this.end(s));
    } finally {
      this.running = false;
      if (this.subs.size === 0) {
        // Nobody follows: the next stream starts the reader from "now", not from where it stopped.
        this.ring = [];
        this.first = 0;
        this.cursor = this.base = null;
      }
    }
    if (this.subs.size && !this.stop.aborted) void this.loop(); // someone subscribed as the loop ended
  }

  /** One read for everyone, then each stream served; true when the read was full (more may be waiting). */
  private async tick(): Promise<boolean> {
    if (this.cursor === null) this.cursor = this.base = await this.ledger.lastEventSeq();
    const batch = await this.ledger.events({ after: this.cursor, limit: BATCH });
    if (batch.length) {
      this.ring.push(...batch);
      this.cursor = (batch.at(-1) as LedgerEvent).seq;
      const over = this.ring.length - RING;
      if (over > 0) {
        this.base = (this.ring[over - 1] as LedgerEvent).seq;
        this.ring = this.ring.slice(over);
        this.first += over;
      }
    }
    const verdicts = new Map<string, Promise<boolean>>();
    for (const sub of [...this.subs]) {
      let ok = verdicts.get(sub.authKey);
      if (ok === undefined) verdicts.set(sub.authKey, (ok = sub.allowed().catch(() => false)));
      if (!(await ok)) this.end(sub);
      else if (sub.queue.length && Date.now() - sub.tookAt > this.stallMs)
        this.end(sub); // not reading: stop working for it
      else await this.serve(sub);
    }
    return batch.length === BATCH;
  }

  private async serve(sub: Sub): Promise<void> {
    if (sub.at !== undefined && sub.at < this.first - 1) sub.at = undefined; // the ring moved on without it
    if (sub.at === undefined) {
      let found = this.placeOf(sub.pos);
      if (found === undefined) {
        // What it was handed is still waiting: reading more for it now would only be thrown away (issue 24).
        if (sub.queue.length) return;
        // Catching up: read the whole log (not only the project), so the position reached is one the ring will hold.
        const own = await this.ledger.events({ after: sub.pos, limit: BATCH });
        if (!this.hand(sub, own)) return;
        found = this.placeOf(sub.pos);
        if (found === undefined) return; // still behind the ring, or ahead of it: read again next tick
      }
      sub.at = found;
    }
    const fresh = this.ring.slice(sub.at - this.first + 1);
    sub.at = this.head;
    this.hand(sub, fresh);
  }

  /** Place in the ring just after which a stream at seq `pos` continues, if the ring holds it. */
  private placeOf(pos: number): number | undefined {
    if (pos === this.cursor) return this.head;
    if (pos === this.base) return this.first - 1;
    for (let i = this.ring.length - 1; i >= 0; i--) if ((this.ring[i] as LedgerEvent).seq === pos) return this.first + i;
    return undefined;
  }

  /**
   * Queues the events of a stretch of the log that are for this stream, and
   * moves its position to the end of the stretch; false when it was too far
   * behind and must catch up on its own instead.
   */
  private hand(sub: Sub, read: LedgerEvent[]): boolean {
    if (!read.length) return true;
    const events = sub.project === undefined ? read : read.filter((e) => e.project === sub.project);
    if (sub.queue.length + events.length > MAX_QUEUE) {
      // Too slow to keep up: it catches up on its own from what it was last handed.
      sub.pos = sub.taken;
      sub.queue = [];
      sub.at = undefined;
      return false;
    }
    sub.pos = (read.at(-1) as LedgerEvent).seq;
    if (events.length) {
      sub.queue.push(...events);
      sub.wake?.();
    }
    return true;
  }
}
