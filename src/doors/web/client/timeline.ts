/**
 * The lease timeline (issue 28): one lane per agent over a window, a bar per
 * attempt from its claim to its end (running ones reach now), coloured by
 * how it ended, and a connector where a work order passed from one agent to
 * the next. Read from the attempts the ledger keeps; redrawn as events come.
 */
import { api, enc } from "./api.js";
import { h, replace, svg, woRef } from "./dom.js";
import { serverNow } from "./time.js";
import { errorBox, woHash } from "./view.js";
import type { Attempt } from "../../../core/types.js";
import { timeline } from "./layout.js";
import { windowedPanel } from "./panel.js";

const WINDOWS: Record<string, number> = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 };
const LANE = 22;
const LABEL = 110;
const WIDTH = 900;
/** At most this many attempts are drawn (the newest). */
const DRAWN = 5000;

export function leaseTimeline(project: string) {
  return windowedPanel("Lease timeline", "lease-timeline", Object.keys(WINDOWS), draw);

  async function draw(window: string, area: HTMLElement): Promise<void> {
    let attempts: Attempt[];
    try {
      attempts = await api<Attempt[]>("GET", `/v1/projects/${enc(project)}/attempts?since=${window}&limit=${DRAWN}`);
    } catch (e) {
      return replace(area, errorBox(e));
    }
    const now = serverNow();
    const { lanes, bars, handoffs } = timeline(attempts, now - WINDOWS[window]!, now);
    if (lanes.length === 0) return replace(area, h("p", { class: "muted" }, `No lease in the last ${window}.`));
    const x = (f: number) => LABEL + f * (WIDTH - LABEL - 10);
    const y = (lane: number) => 6 + lane * LANE;
    const picture = svg(
      "svg",
      { viewBox: `0 0 ${WIDTH} ${y(lanes.length) + 4}`, width: WIDTH, height: y(lanes.length) + 4, role: "img", "aria-label": `${bars.length} leases of ${lanes.length} agents` },
      ...lanes.map((agent, i) => svg("text", { x: 4, y: y(i) + 13, class: "lane", "data-agent": agent }, agent)),
      ...handoffs.map((c) =>
        svg(
          "line",
          { x1: x(c.from.to), y1: y(c.from.lane) + 8, x2: x(c.to.from), y2: y(c.to.lane) + 8, class: "handoff" },
          svg("title", {}, `${woRef(c.wo)}: ${c.from.agent} → ${c.to.agent}`),
        ),
      ),
      ...bars.map((b) =>
        svg(
          "a",
          { href: woHash(project, b.wo), "data-wo": b.wo, "data-agent": b.agent, "data-outcome": b.outcome },
          svg("title", {}, `${woRef(b.wo)} by ${b.agent}: ${b.outcome}`),
          svg("rect", { x: x(b.from), y: y(b.lane) + 2, width: Math.max(2, x(b.to) - x(b.from)), height: 12, rx: 2, class: `bar o-${b.outcome}` }),
        ),
      ),
    );
    replace(
      area,
      h("p", { class: "muted" }, "One lane per agent; a bar per lease, from claim to its end; lines: a work order passing to the next agent."),
      h("div", { class: "graph-scroll" }, picture),
    );
  }
}
