/**
 * Following the event log of a remote ledger: reads the server's event stream
 * (SSE) and hands each event on. When the stream ends (a server restarts, a
 * load balancer cuts the connection) it reconnects and resumes after the last
 * event it saw.
 */
import { ERROR_CODES, LedgerError, type ErrorBody } from "../core/errors.js";
import { sleep } from "../core/follow.js";
import type { LedgerEvent } from "../core/types.js";
import { EventStreamParser } from "../protocol/event-stream.js";

async function open(url: string, token: string, project: string | undefined, after: number, signal: AbortSignal): Promise<Response> {
  const qs = new URLSearchParams({ after: String(after) });
  if (project) qs.set("project", project);
  const res = await fetch(`${url.replace(/\/+$/, "")}/v1/events?${qs}`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal });
  if (res.ok && res.body) return res;
  const err = ((await res.json().catch(() => null)) as { error?: ErrorBody } | null)?.error;
  const code = err && err.code in ERROR_CODES ? err.code : "UNAVAILABLE";
  throw new LedgerError(code, err?.message ?? `HTTP ${res.status} from ${url}`, { ...(err?.hint ? { hint: err.hint } : {}), ...(err?.details ? { details: err.details } : {}) });
}

export async function streamRemoteEvents(
  url: string,
  token: string,
  opts: { project?: string | undefined; after: number; signal: AbortSignal },
  onEvent: (e: LedgerEvent) => void,
): Promise<void> {
  let after = Number(opts.after);
  let connected = false;
  let backoff = 500;
  while (!opts.signal.aborted) {
    let res: Response;
    try {
      res = await open(url, token, opts.project, after, opts.signal);
    } catch (e) {
      if (opts.signal.aborted) return;
      if (e instanceof LedgerError && e.code !== "UNAVAILABLE") throw e; // bad token, bad project: retrying will not help
      if (!connected)
        throw e instanceof LedgerError
          ? e
          : new LedgerError("UNAVAILABLE", `cannot reach the workledger server at ${url}: ${(e as Error).message}`, { hint: "check WORKLEDGER_URL and that the server runs" });
      await sleep(backoff, opts.signal);
      backoff = Math.min(backoff * 2, 5000);
      continue;
    }
    connected = true;
    backoff = 500;
    const decoder = new TextDecoder();
    const parser = new EventStreamParser();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
          after = event.seq;
          onEvent(event);
        }
      }
    } catch (e) {
      if (opts.signal.aborted) return;
      if (!(e instanceof TypeError) && (e as Error).name !== "AbortError") throw e;
    }
    await sleep(backoff, opts.signal); // the stream ended: reconnect after the last event seen
  }
}
