/**
 * Needs a human (issue 28): what no agent will fix, first on the board when
 * there is any, each item with what a person does; an admin reopens a
 * blocked work order here in one click.
 */
import { api, enc, woPath } from "./api.js";
import { h, replace, woRef } from "./dom.js";
import { ago } from "./time.js";
import { errorBox, woHash, type Me } from "./view.js";
import type { Attention, AttentionItem } from "../../../core/insights.js";

const WHAT: Record<AttentionItem["kind"], string> = {
  dead_letter: "dead-lettered",
  verification_failed: "verification failed",
  blocked: "blocked",
  lease_losses: "losing leases",
  write_refused: "writes refused",
};
const DO: Record<AttentionItem["action"], string> = {
  reopen: "reopen it when the blocker is gone",
  raise_cap: "raise its cap (edit it), then reopen it",
  look: "look at what happened",
};

export function attentionPanel(project: string, me: Me) {
  const list = h("ol", { class: "attention-list" });
  const el = h("section", { class: "needs-human", "aria-label": "Needs a human", hidden: true }, h("h2", {}, "Needs a human"), list);

  function item(i: AttentionItem): HTMLLIElement {
    const reopen =
      me.role === "admin" && i.action === "reopen" && i.id !== null
        ? h("button", { type: "button", onclick: () => void act(() => api("PATCH", woPath(project, i.id!), { status: "open" })) }, "Reopen")
        : null;
    return h(
      "li",
      { "data-kind": i.kind, ...(i.id === null ? {} : { "data-wo": i.id }) },
      h("span", { class: `badge k-${i.kind}` }, WHAT[i.kind]),
      " ",
      i.id === null ? null : h("a", { href: woHash(project, i.id) }, woRef(i.id)),
      i.title ? ` ${i.title}` : null,
      i.agent ? [" · ", h("strong", {}, i.agent)] : null,
      " ",
      h("time", { datetime: i.at, title: i.at }, ago(i.at)),
      h("div", { class: "detail" }, i.detail),
      h("div", { class: "muted" }, DO[i.action], " ", reopen),
    );
  }

  async function act(request: () => Promise<unknown>): Promise<void> {
    try {
      await request();
      await load();
    } catch (e) {
      list.prepend(h("li", {}, errorBox(e)));
    }
  }

  async function load(): Promise<void> {
    try {
      const a = await api<Attention>("GET", `/v1/projects/${enc(project)}/attention`);
      el.hidden = a.items.length === 0;
      replace(list, a.items.map(item));
    } catch (e) {
      el.hidden = false;
      replace(list, h("li", {}, errorBox(e)));
    }
  }
  return { el, load };
}
