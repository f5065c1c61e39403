/** A panel under the board, drawn when opened and again when its window changes (the lease timeline, the flow). */
import { h } from "./dom.js";

export function windowedPanel(title: string, cls: string, windows: readonly string[], draw: (window: string, area: HTMLElement) => Promise<void>) {
  let window = "24h";
  const area = h("div", { class: "panel-area" });
  const picker = h(
    "select",
    { "aria-label": "Window", onchange: (e: Event) => ((window = (e.target as HTMLSelectElement).value), void draw(window, area)) },
    windows.map((w) => h("option", { value: w, selected: w === window }, `last ${w}`)),
  );
  const el = h(
    "details",
    { class: `graph-panel ${cls}`, ontoggle: (e: Event) => (e.target as HTMLDetailsElement).open && void draw(window, area) },
    h("summary", {}, title),
    picker,
    area,
  );
  return { el, redraw: () => el.open && void draw(window, area) };
}
