/**
 * The project overview beside the board: counts per status, who holds
 * leases now, the latest activity and the latest context per key.
 */
import { api, enc } from "./api.js";
import { leaseLine, statusBadge } from "./card.js";
import { h, replace, woRef, type AttrValue, type Child } from "./dom.js";
import { ago, age } from "./time.js";
import { errorBox, woHash } from "./view.js";
import { STATUSES, type ContextEntry, type LedgerEvent, type WorkOrder } from "../../../core/types.js";
import type { Report, ReportRow } from "../../../core/report.js";
import { spendChart, usd } from "./budget.js";
import { rosterPanel } from "./roster.js";

const FEED = 30;

export interface Freshness {
  age_ms: number;
  verdict: "fresh" | "stale";
  stale_reasons: string[];
}
type PulledContext = { verdict: "fresh" | "stale" | "none"; entries: (ContextEntry & Freshness)[] };

/** A context entry, folded: key, fresh or stale (why, on hover), age, author, git state, `from` (a dependency's), then its body. */
export function contextEntry(x: ContextEntry & Freshness, from?: string): HTMLElement {
  return h(
    "details",
    { class: "ctx", "data-key": x.key, ...(x.wo === null ? {} : { "data-from": x.wo }) },
    h(
      "summary",
      {},
      h("strong", {}, x.key),
      " ",
      h("span", { class: `badge v-${x.verdict}`, title: x.stale_reasons.join("; ") }, x.verdict),
      " ",
      h("span", { class: "muted" }, `${from ? `${from} · ` : ""}${age(x.age_ms)} old · ${x.agent}${x.git ? ` · ${x.git.head.slice(0, 8)}${x.git.dirty ? "+dirty" : ""}` : ""}`),
    ),
    x.stale_reasons.length ? h("p", { class: "muted" }, x.stale_reasons.join("; ")) : null,
    h("pre", {}, x.body),
  );
}

/** One event as a list item: when, who, what, then `tail` (the project feed links the WO, a WO's history shows the revision and diff). */
export function eventItem(e: LedgerEvent, attrs: Record<string, AttrValue>, ...tail: Child[]): HTMLLIElement {
  return h("li", attrs, h("time", { datetime: e.at, title: e.at }, ago(e.at)), " ", h("strong", {}, e.agent), " ", describe(e), ...tail);
}

export function describe(e: LedgerEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case "updated":
      return `updated ${Object.keys((d.changes as object | undefined) ?? {}).join(", ")}`;
    case "status_changed":
      return `status ${String(d.from)} → ${String(d.to)}`;
    case "note_added":
      return `${String(d.kind ?? "note")} note`;
    case "context_put":
      return `context "${String(d.key ?? "handover")}"`;
    case "checkpoint":
      return `checkpoint ${String(d.commit).slice(0, 12)}: ${String(d.message)}`;
    default:
      return e.type.replace("_", " ");
  }
}

/** The newest `n` events of a project: the log is global, so look back in widening windows of sequence numbers. */
async function recentEvents(project: string, last: number, n: number): Promise<LedgerEvent[]> {
  let span = 100;
  for (;;) {
    let after = Math.max(0, last - span);
    let found: LedgerEvent[] = [];
    for (;;) {
      const page = await api<LedgerEvent[]>("GET", `/v1/projects/${enc(project)}/history?after=${after}&limit=1000`);
      found = [...found, ...page].slice(-n);
      if (page.length < 1000) break;
      after = page[page.length - 1]!.seq;
    }
    if (found.length >= n || last - span <= 0) return found.reverse();
    span *= 10;
  }
}

export function overview(project: string) {
  const counts = h("dl", { class: "counts-grid" });
  const holders = h("ul", { class: "holders" });
  const feed = h("ol", { class: "feed", "aria-live": "off" });
  const context = h("div", { class: "context" });
  const spend = h("div", { class: "spend" });
  const roster = rosterPanel(project);
  let spendBy: "agent" | "phase" = "agent";
  const byPicker = h(
    "select",
    { id: "spend-by", "aria-label": "Spend by", onchange: (e: Event) => ((spendBy = (e.target as HTMLSelectElement).value as "agent" | "phase"), void loadSpend()) },
    h("option", { value: "agent" }, "by agent"),
    h("option", { value: "phase" }, "by phase"),
  );
  async function loadSpend(): Promise<void> {
    try {
      const r = await api<Report>("GET", `/v1/projects/${enc(project)}/report?since=7d&by=${spendBy}`);
      const e = r.enrichment;
      const perDone = (x: ReportRow) => (x.cost_per_done_wo === null ? "–" : usd(x.cost_per_done_wo));
      const firstTry = (x: ReportRow) => (x.first_attempt_done === null ? "" : `, ${Math.round(x.first_attempt_done * 100)}% done at the first try`);
      const worth = (x: ReportRow) => `${perDone(x)} per done WO${firstTry(x)}`;
      replace(
        spend,
        spendChart(r.days, r.since, r.until),
        h(
          "p",
          { class: "muted", "data-totals": "" },
          `${usd(r.totals.usd)} · ${r.totals.attempts} attempt${r.totals.attempts === 1 ? "" : "s"} · ${r.totals.done_wos} done · ${perDone(r.totals)} per done WO`,
        ),
        h("p", { class: "muted", "data-enrichment": "" }, `enriched: ${worth(e.with_enrich)}; not: ${worth(e.without_enrich)}`),
      );
    } catch (err) {
      replace(spend, errorBox(err));
    }
  }
  const el = h(
    "aside",
    { class: "overview", "aria-label": "Project overview" },
    h("h2", {}, "Status"),
    counts,
    h("h2", {}, "Holding leases"),
    holders,
    h("h2", {}, "Agents, last day"),
    roster.el,
    h("h2", {}, "Latest context"),
    context,
    h("h2", {}, "Spend, 7 days ", byPicker),
    spend,
    h("h2", {}, "Activity"),
    feed,
  );
  let events: LedgerEvent[] = [];

  const feedItem = (e: LedgerEvent) => eventItem(e, { "data-seq": e.seq }, e.wo ? [" ", h("a", { href: woHash(project, e.wo) }, woRef(e.wo))] : null);

  return {
    el,
    loadSpend,
    loadRoster: roster.load,
    setWorkOrders(wos: Iterable<WorkOrder>): void {
      const list = [...wos];
      replace(
        counts,
        STATUSES.map((s) => [h("dt", {}, statusBadge(s)), h("dd", { "data-count": s }, list.filter((w) => w.status === s).length)]),
      );
      const held = list.filter((w) => w.lease).sort((a, b) => a.lease!.agent.localeCompare(b.lease!.agent) || a.id - b.id);
      replace(
        holders,
        held.length
          ? held.map((w) => h("li", { "data-wo": w.id }, leaseLine(w.lease!), " ", h("a", { href: woHash(project, w.id) }, woRef(w.id))))
          : h("li", { class: "muted" }, "nobody"),
      );
    },
    async loadActivity(last: number): Promise<void> {
      try {
        events = await recentEvents(project, last, FEED);
        replace(feed, events.length ? events.map(feedItem) : h("li", { class: "muted" }, "nothing yet"));
      } catch (e) {
        replace(feed, errorBox(e));
      }
    },
    pushEvent(e: LedgerEvent): void {
      if (events.some((x) => x.seq === e.seq)) return;
      events = [e, ...events].slice(0, FEED);
      replace(feed, events.map(feedItem));
    },
    async loadContext(): Promise<void> {
      try {
        const c = await api<PulledContext>("GET", `/v1/projects/${enc(project)}/context`);
        replace(context, c.entries.length ? c.entries.map((x) => contextEntry(x)) : h("p", { class: "muted" }, "No context saved yet."));
      } catch (e) {
        replace(context, errorBox(e));
      }
    },
  };
}
