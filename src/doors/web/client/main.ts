/**
 * The dashboard's shell: sign-in with an API token, a header, and a hash
 * router so every view is a deep link (`#/p/ancc`, `#/p/ancc/wo/12`).
 */
import { ApiError, api, session } from "./api.js";
import { boardView } from "./board.js";
import { h, replace } from "./dom.js";
import { createView } from "./forms.js";
import { projectsView } from "./projects.js";
import { syncClock } from "./time.js";
import type { Me, View } from "./view.js";
import { woView } from "./wo-page.js";

const root = document.getElementById("app") as HTMLElement;
let me: Me | null = null;
let cleanup: (() => void) | null = null;

interface Route {
  view: View;
  project?: string;
  id?: number;
  params: URLSearchParams;
}

function route(): Route {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = raw.split("?", 2);
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "p" && parts[1]) {
    if (parts[2] === "wo" && /^\d+$/.test(parts[3] ?? "")) return { view: woView, project: parts[1], id: Number(parts[3]), params };
    if (parts[2] === "new") return { view: createView, project: parts[1], params };
    return { view: boardView, project: parts[1], params };
  }
  // A token limited to one project has nothing else to pick.
  if (me?.project) return { view: boardView, project: me.project, params };
  return { view: projectsView, params };
}

function header(who: Me): HTMLElement {
  return h(
    "header",
    { class: "top" },
    h("a", { href: "#/", class: "brand" }, "workledger"),
    h("span", { class: "who", "data-testid": "whoami" }, `${who.agent} · ${who.role}${who.project ? ` · ${who.project}` : ""}`),
    h("button", { type: "button", class: "link", onclick: () => signOut() }, "Sign out"),
  );
}

function render(): void {
  cleanup?.();
  cleanup = null;
  if (!me) return signIn();
  const r = route();
  const main = h("main", { id: "main", tabindex: "-1" });
  document.title = [r.id ? `WO-${r.id}` : null, r.project, "workledger"].filter(Boolean).join(" · ");
  replace(root, h("a", { href: "#main", class: "skip" }, "Skip to content"), header(me), main);
  cleanup = r.view({ root: main, me, project: r.project ?? "", id: r.id ?? 0, params: r.params, navigate: (hash) => (location.hash = hash) });
}

function signOut(): void {
  session.clear();
  me = null;
  render();
}

function signIn(message?: string): void {
  const input = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, placeholder: "wl_…", "aria-describedby": "token-help" });
  const error = h("p", { class: "error", role: "alert" }, message ?? "");
  const form = h(
    "form",
    { class: "signin", onsubmit: (e: Event) => void submit(e) },
    h("h1", {}, "workledger"),
    h("label", { for: "token" }, "API token"),
    input,
    h(
      "p",
      { id: "token-help", class: "muted" },
      "Create one with ",
      h("code", {}, "workledger token create --as-admin --agent you --role agent"),
      " (",
      h("code", {}, "reader"),
      " can only look). It stays in this browser tab only.",
    ),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    const token = input.value.trim();
    try {
      me = await whoami(token);
      session.save(token);
      render();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401 ? "That token is unknown or revoked." : (err as Error).message;
    }
  }
  replace(root, form);
  input.focus();
}

async function whoami(token: string): Promise<Me> {
  const sent = Date.now();
  const [who, health] = await Promise.all([api<Me>("GET", "/v1/whoami", undefined, token), api<{ now: string }>("GET", "/healthz")]);
  syncClock(health.now, sent, Date.now());
  return who;
}

async function start(): Promise<void> {
  const token = session.token();
  if (token) {
    try {
      me = await whoami(token);
    } catch (e) {
      session.clear();
      return signIn(e instanceof ApiError && e.status === 401 ? "Your token was revoked or is unknown; sign in again." : (e as Error).message);
    }
  }
  render();
}

window.addEventListener("hashchange", () => render());
// A view that meets a revoked token sends everyone back to sign-in.
window.addEventListener("workledger:unauthorized", () => {
  session.clear();
  me = null;
  cleanup?.();
  signIn("Your token was revoked or is unknown; sign in again.");
});
void start();
