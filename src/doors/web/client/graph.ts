/**
 * A project's dependency graph (issue 28): the work orders that depend on
 * others or are depended on, in columns by depth (a WO right of everything
 * it waits for), coloured by status, with the ready set (what
 * find-unclaimed returns now) outlined. Drawn on demand, at most GRAPHED
 * work orders; a click opens one.
 */
import { api, enc } from "./api.js";
import { h, replace, svg, woRef } from "./dom.js";
import { errorBox, woHash } from "./view.js";
import type { WorkOrder } from "../../../core/types.js";
import { depths } from "./layout.js";

const GRAPHED = 400;
const COL = 120;
const ROW = 30;

export function dependencyGraph(project: string, all: () => Iterable<WorkOrder>) {
  const area = h("div", { class: "graph" });
  const el = h(
    "details",
    { class: "graph-panel dependency-graph", ontoggle: (e: Event) => (e.target as HTMLDetailsElement).open && void draw() },
    h("summary", {}, "Dependency graph"),
    area,
  );

  async function draw(): Promise<void> {
    const list = [...all()];
    const byId = new Map(list.map((w) => [w.id, w]));
    const linked = new Set(list.flatMap((w) => (w.depends_on.length ? [w.id, ...w.depends_on.filter((d) => byId.has(d))] : [])));
    const shown = new Map([...linked].slice(0, GRAPHED).map((id) => [id, byId.get(id)!]));
    if (shown.size === 0) return replace(area, h("p", { class: "muted" }, "No work order depends on another."));
    let ready: Set<number>;
    try {
      ready = new Set((await api<WorkOrder[]>("GET", `/v1/projects/${enc(project)}/unclaimed?limit=1000`)).map((w) => w.id));
    } catch (e) {
      return replace(area, errorBox(e));
    }
    const depth = depths(shown);
    const rows = new Map<number, number>();
    const at = new Map<number, { x: number; y: number }>();
    for (const id of [...shown.keys()].sort((a, b) => a - b)) {
      const d = depth.get(id)!;
      const r = rows.get(d) ?? 0;
      rows.set(d, r + 1);
      at.set(id, { x: 10 + d * COL, y: 10 + r * ROW });
    }
    const width = 10 + (Math.max(...depth.values()) + 1) * COL;
    const height = 10 + Math.max(...rows.values()) * ROW;
    const edges = [...shown.values()].flatMap((w) =>
      w.depends_on
        .filter((d) => at.has(d))
        .map((d) => {
          const from = at.get(d)!;
          const to = at.get(w.id)!;
          return svg("line", { x1: from.x + 80, y1: from.y + 10, x2: to.x, y2: to.y + 10, class: "edge" });
        }),
    );
    const nodes = [...shown.values()].map((w) => {
      const p = at.get(w.id)!;
      const title = `${woRef(w.id)} ${w.title} (${w.status}${ready.has(w.id) ? ", ready" : ""})`;
      return svg(
        "a",
        { href: woHash(project, w.id), "data-wo": w.id, "data-status": w.status, ...(ready.has(w.id) ? { "data-ready": "" } : {}) },
        svg("title", {}, title),
        svg("rect", { x: p.x, y: p.y, width: 80, height: 20, rx: 4, class: `node s-${w.status}${ready.has(w.id) ? " ready" : ""}` }),
        svg("text", { x: p.x + 6, y: p.y + 14 }, woRef(w.id)),
      );
    });
    const picture = svg(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": `${shown.size} work orders and their dependencies` },
      ...edges,
      ...nodes,
    );
    replace(
      area,
      h(
        "p",
        { class: "muted" },
        `Left to right: what each waits for comes first. Outlined: ready to claim now.${linked.size > GRAPHED ? ` Showing ${GRAPHED} of ${linked.size}.` : ""}`,
      ),
      h("div", { class: "graph-scroll" }, picture),
    );
  }
  return { el, redraw: () => el.open && void draw() };
}
