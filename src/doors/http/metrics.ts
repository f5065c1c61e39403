/** Prometheus text-format metrics, kept in memory per server instance. */
import type { NewEvent } from "../../core/types.js";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();

  private inc(key: string, by = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  /** Ledger events committed by this instance. */
  observeEvents(events: readonly NewEvent[]): void {
    for (const e of events) {
      if (e.type === "claimed") this.inc("workledger_claims_total");
      if (e.type === "expired") this.inc("workledger_expiries_total");
    }
  }

  observeRequest(route: string, status: number, seconds: number): void {
    this.inc(`workledger_http_requests_total{route="${route}",status="${status}"}`);
    if (status === 409) this.inc("workledger_conflicts_total");
    let h = this.histogram.get(route);
    if (!h) this.histogram.set(route, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => seconds <= b && h.buckets[i]!++);
    h.sum += seconds;
    h.count++;
  }

  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family("workledger_claims_total", "counter", "Leases granted by this instance.");
    out.push(`workledger_claims_total ${this.counters.get("workledger_claims_total") ?? 0}`);
    family("workledger_conflicts_total", "counter", "Requests refused with 409 (claimed elsewhere, revision mismatch, ...).");
    out.push(`workledger_conflicts_total ${this.counters.get("workledger_conflicts_total") ?? 0}`);
    family("workledger_expiries_total", "counter", "Lapsed leases recorded by this instance.");
    out.push(`workledger_expiries_total ${this.counters.get("workledger_expiries_total") ?? 0}`);
    family("workledger_http_requests_total", "counter", "HTTP requests by route and status.");
    for (const [k, v] of this.counters) if (k.startsWith("workledger_http_requests_total{")) out.push(`${k} ${v}`);
    family("workledger_http_request_duration_seconds", "histogram", "HTTP request latency by route.");
    for (const [route, h] of this.histogram) {
      BUCKETS.forEach((b, i) => out.push(`workledger_http_request_duration_seconds_bucket{route="${route}",le="${b}"} ${h.buckets[i]}`));
      out.push(`workledger_http_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${h.count}`);
      out.push(`workledger_http_request_duration_seconds_sum{route="${route}"} ${h.sum}`);
      out.push(`workledger_http_request_duration_seconds_count{route="${route}"} ${h.count}`);
    }
    const mem = process.memoryUsage();
    family("process_resident_memory_bytes", "gauge", "Resident memory of this server process.");
    out.push(`process_resident_memory_bytes ${mem.rss}`);
    family("nodejs_heap_used_bytes", "gauge", "V8 heap in use.");
    out.push(`nodejs_heap_used_bytes ${mem.heapUsed}`);
    return out.join("\n") + "\n";
  }
}
