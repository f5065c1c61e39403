/** Prometheus text-format metrics, kept in memory per server instance. */
import type { NewEvent } from "../../core/types.js";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Label sets per governance family: agents and phases are written by token holders, so the series a server keeps are bounded. */
const MAX_SERIES = 1000;
const OTHER = "_other";
/** A Prometheus label value (names here are already restricted to safe characters; escaped anyway). */
const lv = (v: unknown) => String(v).replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));

export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();
  /** Attempts and spend by labels (DESIGN.md §10), each family at most MAX_SERIES label sets. */
  private readonly governance = new Map<string, Map<string, number>>();

  private add(family: string, labels: Record<string, unknown>, by: number): void {
    let f = this.governance.get(family);
    if (!f) this.governance.set(family, (f = new Map()));
    let key = Object.entries(labels)
      .map(([k, v]) => `${k}="${lv(v)}"`)
      .join(",");
    if (!f.has(key) && f.size >= MAX_SERIES)
      key = Object.keys(labels)
        .map((k) => `${k}="${OTHER}"`)
        .join(",");
    f.set(key, (f.get(key) ?? 0) + by);
  }

  private inc(key: string, by = 1): void {
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  /** Ledger events committed by this instance. */
  observeEvents(events: readonly NewEvent[]): void {
    for (const e of events) {
      if (e.type === "claimed") this.inc("workledger_claims_total");
      if (e.type === "expired") this.inc("workledger_expiries_total");
      if (e.type === "claimed") this.add("workledger_attempts_total", { project: e.project, agent: e.agent }, 1);
      if (e.type === "spend_recorded") {
        const labels = { project: e.project, agent: e.agent, phase: e.data.phase };
        if (typeof e.data.cost_usd === "number") this.add("workledger_spend_usd_total", labels, e.data.cost_usd);
        this.add("workledger_spend_tokens_total", { ...labels, direction: "in" }, Number(e.data.tokens_in) || 0);
        this.add("workledger_spend_tokens_total", { ...labels, direction: "out" }, Number(e.data.tokens_out) || 0);
      }
    }
  }

  /** A webhook delivery attempt of this instance's deliverer and how long it took. */
  observeDelivery(result: "ok" | "error", seconds: number): void {
    this.inc(`workledger_webhook_deliveries_total{result="${result}"}`);
    this.inc("workledger_webhook_delivery_seconds_sum", seconds);
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

  /**
   * The text for one reader. Series by project (attempts, spend) name agents
   * and phases, so they go only to admins (all of them) and to a token scoped
   * to a project (that project's); everyone else sees the server's own figures.
   */
  render(view: { all: boolean } | { project: string } | null = null): string {
    const shown = (labels: string) => view !== null && ("all" in view ? view.all : labels.startsWith(`project="${lv(view.project)}",`));
    const out: string[] = [];
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family("workledger_claims_total", "counter", "Leases granted by this instance.");
    out.push(`workledger_claims_total ${this.counters.get("workledger_claims_total") ?? 0}`);
    family("workledger_conflicts_total", "counter", "Requests refused with 409 (claimed elsewhere, revision mismatch, ...).");
    out.push(`workledger_conflicts_total ${this.counters.get("workledger_conflicts_total") ?? 0}`);
    family("workledger_expiries_total", "counter", "Lapsed leases recorded by this instance.");
    out.push(`workledger_expiries_total ${this.counters.get("workledger_expiries_total") ?? 0}`);
    const help: Record<string, string> = {
      workledger_attempts_total: "Attempts (claims) recorded by this instance, by project and agent.",
      workledger_spend_usd_total: "Spend in USD recorded by this instance, by project, agent and phase.",
      workledger_spend_tokens_total: "Tokens recorded by this instance, by project, agent, phase and direction.",
    };
    for (const [name, text] of Object.entries(help)) {
      family(name, "counter", text);
      for (const [labels, v] of this.governance.get(name) ?? []) if (shown(labels)) out.push(`${name}{${labels}} ${Math.round(v * 1e6) / 1e6}`);
    }
    family("workledger_webhook_deliveries_total", "counter", "Webhook deliveries attempted by this instance, by result (ok: a 2xx answer).");
    for (const result of ["ok", "error"])
      out.push(`workledger_webhook_deliveries_total{result="${result}"} ${this.counters.get(`workledger_webhook_deliveries_total{result="${result}"}`) ?? 0}`);
    family("workledger_webhook_delivery_seconds_sum", "counter", "Seconds spent waiting for webhook receivers.");
    out.push(`workledger_webhook_delivery_seconds_sum ${this.counters.get("workledger_webhook_delivery_seconds_sum") ?? 0}`);
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
