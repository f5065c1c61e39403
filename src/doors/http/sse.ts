/**
 * Server-sent events from the event log. Servers are stateless, so events
 * come from reading the log (one shared reader per server, event-hub.ts): an
 * event committed through any instance reaches every subscriber of every
 * instance.
 */
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { EventHub } from "./event-hub.js";

/** A comment this often keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export function eventStream(
  c: Context,
  hub: EventHub,
  opts: { project: string | undefined; after: number; allowed: () => Promise<boolean>; authKey: string; onClose: () => void },
): Response {
  return streamSSE(c, async (stream) => {
    const sub = hub.subscribe(opts);
    stream.onAbort(() => sub.close());
    try {
      let quietSince = Date.now();
      while (sub.open && !stream.aborted && !stream.closed) {
        const events = sub.take();
        for (const e of events) await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify(e) });
        if (events.length) quietSince = Date.now();
        else if (Date.now() - quietSince >= KEEP_ALIVE_MS) {
          await stream.write(": keep-alive\n\n");
          quietSince = Date.now();
        } else await sub.wait(KEEP_ALIVE_MS - (Date.now() - quietSince));
      }
    } finally {
      sub.close();
      opts.onClose();
    }
  });
}
