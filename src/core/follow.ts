/** Following the event log as it grows (watch): what a ledger offers, and the local way of doing it. */
import type { LedgerEvent } from "./types.js";

export interface FollowOptions {
  /** Only this project's events (default: every project's). */
  project?: string | undefined;
  /** Start after the event with this seq (see Ledger.lastEventSeq for "from now"). */
  after: number;
  /** Stop when this aborts. */
  signal: AbortSignal;
  /** How often to look for new events where the ledger has to poll (default 1 s). */
  pollMs?: number;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((r) => (signal.aborted ? r() : (setTimeout(r, ms), signal.addEventListener("abort", () => r(), { once: true }))));

/** Polls `read` for the events after the last one seen and hands each on, until the signal aborts. */
export async function pollEvents(read: (after: number) => Promise<LedgerEvent[]>, opts: FollowOptions, onEvent: (e: LedgerEvent) => void): Promise<void> {
  let after = opts.after;
  while (!opts.signal.aborted) {
    for (const e of await read(after)) {
      onEvent(e);
      after = e.seq;
    }
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}
