/**
 * Flow over time (issue 28): per interval, work created and done as bars,
 * expiries as marks, the queue (open, unclaimed) as a line; the time from
 * created to done and the spend by agent and phase under it. The server
 * aggregates (GET …/flow); the page draws at most a few hundred shapes.
 */
import { api, enc } from "./api.js";
import { h, replace, svg } from "./dom.js";
import { errorBox } from "./view.js";
import { flowShapes } from "./layout.js";
import { windowedPanel } from "./panel.js";
import type { Flow } from "../../../core/flow.js";

const WINDOWS: Record<string, number> = { "1h": 12, "24h": 24, "7d": 28 };
const W = 600;
const H = 120;

const minutes = (ms: number | null) => (ms === null ? "–" : ms < 3_600_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`);

/** The chart itself, `w`×`h` (the landing page's is a small one). */
export function flowChart(f: Flow, w = W, hgt = H): SVGSVGElement {
  const { bars, queue } = flowShapes(f, w, hgt);
  const half = (b: { width: number }) => Math.max(1, b.width / 2 - 1);
  return svg(
    "svg",
    {
      viewBox: `0 0 ${w} ${hgt}`,
      width: w,
      height: hgt,
      class: "flow-chart",
      role: "img",
      "aria-label": `flow since ${f.since}: ${f.done.count} done, queue ${f.points.at(-1)?.queue ?? 0}`,
    },
    ...bars.flatMap((b) => [
      svg("rect", { x: b.x, y: hgt - b.heights.created, width: half(b), height: b.heights.created, class: "created" }, svg("title", {}, `${b.at}: ${b.created} created`)),
      svg("rect", { x: b.x + half(b) + 1, y: hgt - b.heights.done, width: half(b), height: b.heights.done, class: "done" }, svg("title", {}, `${b.at}: ${b.done} done`)),
      ...(b.expired ? [svg("circle", { cx: b.x + b.width / 2, cy: 4, r: 3, class: "expired" }, svg("title", {}, `${b.at}: ${b.expired} expired`))] : []),
    ]),
    svg("polyline", { points: queue, class: "queue", "data-queue": f.points.map((p) => p.queue).join(",") }),
  );
}

export function flowPanel(project: string) {
  return windowedPanel("Flow", "flow-panel", Object.keys(WINDOWS), draw);

  async function draw(window: string, area: HTMLElement): Promise<void> {
    let f: Flow;
    try {
      f = await api<Flow>("GET", `/v1/projects/${enc(project)}/flow?since=${window}&buckets=${WINDOWS[window]}`);
    } catch (e) {
      return replace(area, errorBox(e));
    }
    replace(
      area,
      h("p", { class: "muted" }, "Bars: work created (grey) and done (green) per interval; dots: leases that expired; line: the queue (open, unclaimed)."),
      h("div", { class: "graph-scroll" }, flowChart(f)),
      h(
        "p",
        { "data-flow-summary": "" },
        `${f.done.count} done; created to done: median ${minutes(f.done.median_ms)}, p90 ${minutes(f.done.p90_ms)}; queue ${f.points.at(-1)?.queue ?? f.queue_at_start} now`,
        f.truncated ? ` (only up to ${f.until})` : "",
      ),
      f.spend.length
        ? h(
            "table",
            { class: "flow-spend" },
            h("tr", {}, h("th", {}, "agent"), h("th", {}, "phase"), h("th", {}, "USD"), h("th", {}, "tokens")),
            f.spend.map((s) => h("tr", { "data-agent": s.agent }, h("td", {}, s.agent), h("td", {}, s.phase), h("td", {}, s.usd.toFixed(2)), h("td", {}, s.tokens))),
          )
        : null,
    );
  }
}
