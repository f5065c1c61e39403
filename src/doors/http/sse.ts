/**
 * Server-sent events from the event log. Servers are stateless, so the
 * stream polls the log: an event committed through any instance reaches
 * every subscriber of every instance.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { LedgerApi } from "../../core/api.js";

export function eventStream(c: Context, ledger: LedgerApi, opts: { project: string | undefined; after: number; pollMs: number; stop: AbortSignal; stillAllowed: () => Promise<void> }): Response {
  return streamSSE(c, async (stream) => {
    let after = opts.after;
    let idle = 0;
    while (!stream.aborted && !stream.closed && !opts.stop.aborted) {
      try {
        await opts.stillAllowed();
      } catch {
        break;
      }
      const events = await ledger.events({ ...(opts.project ? { project: opts.project } : {}), after, limit: 500 });
      for (const e of events) {
        await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify(e) });
        after = e.seq;
      }
      idle = events.length ? 0 : idle + opts.pollMs;
      if (idle >= 15_000) {
        await stream.write(": keep-alive\n\n");
        idle = 0;
      }
      await stream.sleep(opts.pollMs);
    }
  });
}
