/**
 * Reads `/v1/events` (server-sent events) into ledger events, fed text as it
 * arrives. Shared by the CLI's remote `watch` and the dashboard, which both
 * read the stream with fetch (EventSource cannot send a bearer header).
 */
import type { LedgerEvent } from "../core/types.js";

export class EventStreamParser {
  private buffer = "";

  /** The events completed by this piece of text; keep-alive comments yield none. */
  push(text: string): LedgerEvent[] {
    this.buffer += text;
    const events: LedgerEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart())
        .join("\n");
      if (data) events.push(JSON.parse(data) as LedgerEvent);
    }
    return events;
  }
}
