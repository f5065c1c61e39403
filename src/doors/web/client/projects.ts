/**
 * The landing view: every project the token may see, with counts per status,
 * what needs a human, how many agents are at work, and a small chart of the
 * last day's flow. With one project it
 * opens that project's board directly (`#/?all=1` shows this list anyway).
 */
import { api, enc } from "./api.js";
import { h, replace } from "./dom.js";
import { BOARD_COLUMNS } from "./filters.js";
import { errorBox, projectHash, type View } from "./view.js";
import type { ProjectSummary } from "../../../core/types.js";
import type { Attention, Roster } from "../../../core/insights.js";
import type { Flow } from "../../../core/flow.js";
import { flowChart } from "./flow.js";
import { webhooksSection } from "./webhooks.js";

/** Projects whose needs-a-human count, live agents and flow are read (three requests each). */
const SUMMED = 20;

export const projectsView: View = ({ root, me, params }) => {
  replace(root, h("h1", {}, "Projects"), h("p", { class: "muted" }, "Loading…"));
  api<ProjectSummary[]>("GET", "/v1/projects").then(
    (projects) => {
      // Replaced, not pushed: going back must not land here and bounce forward again.
      if (projects.length === 1 && params.get("all") !== "1") return location.replace(projectHash(projects[0]!.name));
      replace(
        root,
        h("h1", {}, "Projects"),
        projects.length === 0
          ? h("p", { class: "muted" }, "No projects yet. Agents create one with their first ", h("code", {}, "workledger create"), ".")
          : h(
              "ul",
              { class: "projects" },
              projects.map((p, i) =>
                h(
                  "li",
                  { "data-project": p.name },
                  h("a", { href: projectHash(p.name), class: "project-link" }, p.name),
                  h(
                    "span",
                    { class: "counts" },
                    [...BOARD_COLUMNS, "cancelled" as const].map((s) => h("span", { class: `count s-${s}` }, `${p.counts[s]} ${s}`)),
                  ),
                  i < SUMMED ? health(p.name) : null,
                ),
              ),
            ),
        me.role === "admin" ? webhooksSection() : null,
      );
    },
    (e) => replace(root, h("h1", {}, "Projects"), errorBox(e)),
  );
  return () => {};
};

/** "2 need a human · 3 agents at work" and the day's flow, filled in when the answers arrive. */
function health(project: string): HTMLElement {
  const el = h("span", { class: "health muted" });
  const base = `/v1/projects/${enc(project)}`;
  void Promise.all([api<Attention>("GET", `${base}/attention`), api<Roster>("GET", `${base}/agents`), api<Flow>("GET", `${base}/flow?since=24h&buckets=24`)]).then(
    ([a, r, f]) => {
      const live = r.agents.filter((x) => !x.gone).length;
      replace(
        el,
        a.items.length
          ? h("a", { href: projectHash(project), class: "badge needs", "data-needs": a.items.length }, `${a.items.length} need${a.items.length === 1 ? "s" : ""} a human`)
          : "nothing needs a human",
        ` · ${live} agent${live === 1 ? "" : "s"} at work · ${f.done.count} done in 24h`,
        flowChart(f, 120, 24),
      );
    },
    () => replace(el),
  );
  return el;
}
