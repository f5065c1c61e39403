/** Webhook subscriptions and their health, for admins (issue 26): what is delivered where, and what is failing. */
import { api } from "./api.js";
import { h } from "./dom.js";
import { ago } from "./time.js";
import { errorBox } from "./view.js";
import type { PublicWebhook } from "../../../core/types.js";

export function webhooksSection(): HTMLElement {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  api<PublicWebhook[]>("GET", "/v1/webhooks").then(
    (list) =>
      body.replaceChildren(
        list.length === 0
          ? h("p", { class: "muted" }, "No subscriptions. An admin adds one with ", h("code", {}, "workledger webhook add --as-admin --url … --events needs-human"), ".")
          : h(
              "table",
              { class: "webhooks" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["State", "URL", "Events", "Project", "Delivered", "Last delivery", "Last error"].map((t) => h("th", {}, t)),
                ),
              ),
              h(
                "tbody",
                {},
                list.map((w) =>
                  h(
                    "tr",
                    { "data-webhook": w.id, class: `hook-${w.state}` },
                    h("td", {}, h("span", { class: `badge ${w.state === "active" ? "ok" : "bad"}` }, w.state)),
                    h("td", {}, h("code", {}, w.url)),
                    h("td", {}, w.events.join(", ")),
                    h("td", {}, w.project ?? "all"),
                    h("td", {}, String(w.health.delivered)),
                    h("td", {}, w.health.last_delivery_at ? h("time", { datetime: w.health.last_delivery_at }, ago(w.health.last_delivery_at)) : "—"),
                    h("td", { class: w.health.last_error ? "error" : "" }, w.health.last_error ? `${w.health.last_error} (${ago(w.health.last_error_at!)})` : "—"),
                  ),
                ),
              ),
            ),
      ),
    (e) => body.replaceChildren(errorBox(e)),
  );
  return h("section", { class: "webhooks-panel" }, h("h2", {}, "Webhooks"), body);
}
