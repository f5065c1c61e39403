/**
 * Follows `/v1/events` for one project. EventSource cannot send an
 * Authorization header, so the stream is read with fetch; on a drop it
 * reconnects from the last event seen, so nothing is missed or repeated.
 */
import { authHeader, enc } from "./api.js";
import type { LedgerEvent } from "../../../core/types.js";
import { EventStreamParser } from "../../../protocol/event-stream.js";

export type LiveStatus = "live" | "reconnecting" | "denied";

export function follow(project: string, after: number, onEvent: (e: LedgerEvent) => void, onStatus: (s: LiveStatus) => void, signal: AbortSignal): void {
  let last = after;
  let backoff = 500;
  const run = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const res = await fetch(`/v1/events?project=${enc(project)}&after=${last}`, { headers: { ...authHeader(), accept: "text/event-stream" }, signal });
        if (res.status === 401) window.dispatchEvent(new Event("workledger:unauthorized")); // revoked: back to sign-in
        if (res.status === 401 || res.status === 403) return onStatus("denied");
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onStatus("live");
        backoff = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new EventStreamParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const e of parser.push(value)) {
            last = e.seq;
            onEvent(e);
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      onStatus("reconnecting");
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 5000);
    }
  };
  void run();
}
