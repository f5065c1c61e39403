/**
 * A project's live board. The list is read once; then each event from the
 * stream re-reads only the WO it names, and a one-second tick runs the lease
 * countdowns, re-reading a WO when its lease runs out (expiry is computed by
 * the server from time, so the re-read shows it back in its resting column).
 */
import { api, lastSeq, woPath } from "./api.js";
import { card, tick } from "./card.js";
import { h, replace } from "./dom.js";
import { byUrgency, columns, filtersToQuery, matches, parseFilters, type Filters } from "./filters.js";
import { follow, type LiveStatus } from "./live.js";
import { overview } from "./overview.js";
import { attentionPanel } from "./attention.js";
import { dependencyGraph } from "./graph.js";
import { leaseTimeline } from "./timeline.js";
import { flowPanel } from "./flow.js";
import { canAct, errorBox, projectHash, type View } from "./view.js";
import { PRIORITIES, STATUSES, type WorkOrder } from "../../../core/types.js";

const LIMIT = 2000;
/** Cards drawn per column until a person asks for the rest: 2,000 cards at once took a second and a half to draw (issue 28, the 10,000-WO bench). */
const CARDS_SHOWN = 100;
const PAGE = 1000;
/** Events that change the spend, roster or needs-a-human panels (spend, an attempt that opens or ends, a refusal, a verification). */
const PANEL_EVENTS = new Set(["spend_recorded", "claimed", "released", "expired", "status_changed", "write_refused", "note_added", "updated"]);

export const boardView: View = ({ root, me, project, params }) => {
  const stop = new AbortController();
  const wos = new Map<number, WorkOrder>();
  /** Columns a person asked to see whole. */
  const expanded = new Set<string>();
  let filters: Filters = parseFilters(params);
  const board = h("div", { class: "board", role: "region", "aria-label": "Board" });
  const side = overview(project);
  const needs = attentionPanel(project, me);
  const graph = dependencyGraph(project, () => wos.values());
  const leases = leaseTimeline(project);
  const flow = flowPanel(project);
  const status = h("span", { class: "live-status", role: "status" }, "connecting…");
  const notice = h("div", {});
  const form = filterForm();

  replace(
    root,
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, project),
      status,
      canAct(me) ? h("a", { href: `${projectHash(project)}/new`, class: "button" }, "New work order") : null,
      me.project ? null : h("a", { href: "#/?all=1", class: "muted" }, "all projects"),
    ),
    needs.el,
    form.el,
    notice,
    h("div", { class: "layout" }, board, side.el),
    leases.el,
    flow.el,
    graph.el,
  );

  function render(): void {
    // A live update redraws the columns; keep keyboard focus on the card it was on.
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>(".board [data-wo]")?.dataset.wo;
    replace(
      board,
      columns(filters).map((s) => {
        const cards = [...wos.values()].filter((w) => w.status === s && matches(w, filters)).sort(byUrgency);
        const shown = expanded.has(s) ? cards : cards.slice(0, CARDS_SHOWN);
        return h(
          "section",
          { class: "column", "data-column": s, "aria-label": s },
          h("h2", {}, s, " ", h("span", { class: "muted" }, cards.length)),
          h("ol", { class: "cards" }, shown.map(card)),
          shown.length < cards.length
            ? h("button", { class: "more", type: "button", onclick: () => (expanded.add(s), render()) }, `show all ${cards.length} (${cards.length - shown.length} more)`)
            : null,
        );
      }),
    );
    side.setWorkOrders(wos.values());
    graph.redraw();
    form.options([...wos.values()]);
    if (focused) board.querySelector<HTMLElement>(`[data-wo="${focused}"] a`)?.focus();
  }

  // Re-read WOs named by events, coalesced so a burst costs one read per WO.
  const pending = new Set<number>();
  let flushing: ReturnType<typeof setTimeout> | null = null;
  const refresh = (id: number) => {
    pending.add(id);
    flushing ??= setTimeout(async () => {
      const ids = [...pending];
      pending.clear();
      flushing = null;
      await Promise.all(
        ids.map(async (i) => {
          try {
            const { notes: _n, ...wo } = await api<WorkOrder & { notes: unknown }>("GET", woPath(project, i));
            wos.set(i, wo);
          } catch (e) {
            replace(notice, errorBox(e));
          }
        }),
      );
      if (!stop.signal.aborted) render();
    }, 100);
  };

  // A burst of events redraws the spend, roster and needs-a-human panels once (each is one request).
  let panelsTimer: ReturnType<typeof setTimeout> | null = null;
  const panelsSoon = () => {
    panelsTimer ??= setTimeout(() => {
      panelsTimer = null;
      if (stop.signal.aborted) return;
      void side.loadSpend();
      void side.loadRoster();
      void needs.load();
      leases.redraw();
      flow.redraw();
    }, 300);
  };

  const ticker = setInterval(() => {
    for (const id of tick(root)) if (!pending.has(id)) refresh(id);
  }, 1000);

  void (async () => {
    try {
      const seq = await lastSeq(project);
      // Pages of at most 1,000 (the API's page), up to LIMIT.
      const list: WorkOrder[] = [];
      while (list.length < LIMIT) {
        const page = await api<WorkOrder[]>("GET", `${woPath(project)}?status=all&limit=${PAGE}${list.length ? `&after=${list.at(-1)!.id}` : ""}`);
        list.push(...page);
        if (page.length < PAGE) break;
      }
      for (const w of list) wos.set(w.id, w);
      if (list.length === LIMIT) replace(notice, h("p", { class: "alert" }, `Showing the first ${LIMIT} work orders; use the filters or the CLI for the rest.`));
      render();
      void side.loadActivity(seq);
      void side.loadContext();
      void side.loadSpend();
      void side.loadRoster();
      void needs.load();
      const show: Record<LiveStatus, string> = { live: "● live", reconnecting: "reconnecting…", denied: "not allowed to follow events" };
      follow(
        project,
        seq,
        (e) => {
          side.pushEvent(e);
          if (e.wo !== null) refresh(e.wo);
          if (e.type === "context_put") void side.loadContext();
          if (PANEL_EVENTS.has(e.type)) panelsSoon();
        },
        (s) => {
          status.textContent = show[s];
          status.dataset.state = s;
        },
        stop.signal,
      );
    } catch (e) {
      replace(notice, errorBox(e));
    }
  })();

  function filterForm() {
    const select = (name: string, label: string, values: readonly string[]) =>
      h(
        "label",
        {},
        label,
        " ",
        h(
          "select",
          { name },
          h("option", { value: "" }, "any"),
          values.map((v) => h("option", { value: v }, v)),
        ),
      );
    const el = h(
      "form",
      { class: "filters", role: "search", onsubmit: (e: Event) => e.preventDefault(), oninput: () => apply(), onchange: () => apply() },
      select("status", "Status", STATUSES),
      select("stage", "Stage", []),
      select("label", "Label", []),
      select("requires", "Requires", []),
      select("agent", "Agent", []),
      select("priority", "Priority", PRIORITIES),
      h("label", {}, "Search ", h("input", { name: "q", type: "search", placeholder: "title, WO-12, file…" })),
      h("label", {}, h("input", { name: "cancelled", type: "checkbox" }), " show cancelled"),
    );
    const field = (n: string) => el.elements.namedItem(n) as HTMLInputElement | HTMLSelectElement;
    const setValues = () => {
      field("status").value = filters.status ?? "";
      field("priority").value = filters.priority ?? "";
      field("q").value = filters.q ?? "";
      (field("cancelled") as HTMLInputElement).checked = filters.cancelled;
    };
    function apply(): void {
      const p = new URLSearchParams();
      for (const n of ["status", "stage", "label", "requires", "agent", "priority", "q"]) p.set(n, field(n).value);
      if ((field("cancelled") as HTMLInputElement).checked) p.set("cancelled", "1");
      filters = parseFilters(p);
      // The URL follows the view without a navigation, so reloading or sharing it shows the same board.
      history.replaceState(null, "", `${projectHash(project)}${filtersToQuery(filters)}`);
      render();
    }
    /** Stage, label, requirement and agent choices come from the WOs on the board; the chosen one stays even if no WO has it now. */
    function options(list: WorkOrder[]): void {
      const fill = (n: "stage" | "label" | "requires" | "agent", values: string[]) => {
        const s = field(n) as HTMLSelectElement;
        const chosen = filters[n];
        const all = [...new Set([...values, ...(chosen ? [chosen] : [])])].sort();
        const now = [...s.options].slice(1).map((o) => o.value);
        if (now.join("\n") === all.join("\n")) return;
        replace(
          s,
          h("option", { value: "" }, "any"),
          all.map((v) => h("option", { value: v }, v)),
        );
        s.value = chosen ?? "";
      };
      fill(
        "stage",
        list.flatMap((w) => (w.stage === null ? [] : [w.stage])),
      );
      fill(
        "label",
        list.flatMap((w) => w.labels),
      );
      fill(
        "requires",
        list.flatMap((w) => w.requires),
      );
      fill(
        "agent",
        list.flatMap((w) => (w.lease ? [w.lease.agent] : [])),
      );
    }
    setValues();
    return { el, options };
  }

  return () => {
    stop.abort();
    clearInterval(ticker);
    if (flushing) clearTimeout(flushing);
    if (panelsTimer) clearTimeout(panelsTimer);
  };
};
