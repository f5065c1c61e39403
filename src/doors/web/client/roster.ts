/** The agent roster (issue 28): every agent seen in the last day, what it holds now and how its work went; one silent past its TTL is gone. */
import { api, enc } from "./api.js";
import { h, replace, woRef } from "./dom.js";
import { ago, countdown, serverNow } from "./time.js";
import { errorBox, woHash } from "./view.js";
import type { AgentView, Roster } from "../../../core/insights.js";
import { usd } from "./budget.js";

export function rosterPanel(project: string) {
  const el = h("ul", { class: "roster" });

  const row = (a: AgentView) =>
    h(
      "li",
      { "data-agent": a.agent, class: a.gone ? "gone" : "" },
      h("strong", {}, a.agent),
      " ",
      a.gone ? h("span", { class: "badge" }, "gone") : null,
      " ",
      h("span", { class: "muted" }, a.last_at ? `seen ${ago(a.last_at)}` : "not seen"),
      h(
        "div",
        {},
        a.holding.length
          ? a.holding.map((l, i) => [
              i ? ", " : "holds ",
              h("a", { href: woHash(project, l.id) }, woRef(l.id)),
              h("span", { class: "muted" }, ` (${countdown(Date.parse(l.expires_at) - serverNow())})`),
            ])
          : h("span", { class: "muted" }, "holds nothing"),
      ),
      h("div", { class: "muted", "data-counts": "" }, `${a.attempts} attempts · ${a.done} done · ${a.lost} lost${a.spend_usd ? ` · ${usd(a.spend_usd)}` : ""}`),
    );

  async function load(): Promise<void> {
    try {
      const r = await api<Roster>("GET", `/v1/projects/${enc(project)}/agents`);
      replace(el, r.agents.length ? r.agents.map(row) : h("li", { class: "muted" }, "no agent in the last day"));
    } catch (e) {
      replace(el, errorBox(e));
    }
  }
  return { el, load };
}
