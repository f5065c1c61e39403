/** `watch` in remote mode: reads the server's event stream (SSE) and hands each event on. */
import { LedgerError } from "../../../core/errors.js";
import type { LedgerEvent } from "../../../core/types.js";

export async function streamRemoteEvents(
  url: string,
  token: string,
  opts: { project: string | undefined; after: number | string | undefined; signal: AbortSignal },
  onEvent: (e: LedgerEvent) => void,
): Promise<void> {
  const qs = new URLSearchParams();
  if (opts.project) qs.set("project", opts.project);
  if (opts.after !== undefined) qs.set("after", String(opts.after));
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, "")}/v1/events?${qs}`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal: opts.signal });
  } catch (e) {
    if (opts.signal.aborted) return;
    throw new LedgerError("UNAVAILABLE", `cannot reach the workledger server at ${url}: ${(e as Error).message}`, { hint: "check WORKLEDGER_URL and that the server runs" });
  }
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    throw new LedgerError(res.status === 401 ? "UNAUTHORIZED" : res.status === 403 ? "FORBIDDEN" : "UNAVAILABLE", body?.error?.message ?? `HTTP ${res.status}`);
  }
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
        if (data) onEvent(JSON.parse(data) as LedgerEvent);
      }
    }
  } catch (e) {
    if (!opts.signal.aborted) throw e;
  }
}
