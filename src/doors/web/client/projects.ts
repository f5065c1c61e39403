/** The landing view: every project the token may see, with counts per status. */
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { BOARD_COLUMNS } from "./filters.js";
import { errorBox, projectHash, type View } from "./view.js";
import type { ProjectSummary } from "../../../core/types.js";
import { webhooksSection } from "./webhooks.js";

export const projectsView: View = ({ root, me }) => {
  replace(root, h("h1", {}, "Projects"), h("p", { class: "muted" }, "Loading…"));
  api<ProjectSummary[]>("GET", "/v1/projects").then(
    (projects) =>
      replace(
        root,
        h("h1", {}, "Projects"),
        projects.length === 0
          ? h("p", { class: "muted" }, "No projects yet. Agents create one with their first ", h("code", {}, "workledger create"), ".")
          : h(
              "ul",
              { class: "projects" },
              projects.map((p) =>
                h(
                  "li",
                  {},
                  h("a", { href: projectHash(p.name), class: "project-link" }, p.name),
                  h(
                    "span",
                    { class: "counts" },
                    [...BOARD_COLUMNS, "cancelled" as const].map((s) => h("span", { class: `count s-${s}` }, `${p.counts[s]} ${s}`)),
                  ),
                ),
              ),
            ),
        me.role === "admin" ? webhooksSection() : null,
      ),
    (e) => replace(root, h("h1", {}, "Projects"), errorBox(e)),
  );
  return () => {};
};
