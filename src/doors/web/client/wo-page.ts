/**
 * One work order: every field, notes as a timeline, the full history with
 * field diffs, dependencies with their status, and (for agent and admin tokens) the human
 * actions. Edits carry the revision they were based on, so a change made
 * meanwhile is reported as a conflict instead of being overwritten.
 */
import { api, lastSeq, woPath } from "./api.js";
import { labelChips, leaseLine, priorityBadge, requiresChips, stageBadge, statusBadge, tick } from "./card.js";
import { h, replace, woRef, type Child } from "./dom.js";
import { changed, woForm } from "./forms.js";
import { follow } from "./live.js";
import { contextEntry, eventItem, type Freshness } from "./overview.js";
import { attemptTimeline, budgetFacts, deadLetter, type AttemptView } from "./budget.js";
import { leftBehind } from "./layout.js";
import { ago } from "./time.js";
import { canAct, errorBox, projectHash, woHash, type View } from "./view.js";
import { NOTE_KINDS, type Checkpoint, type ContextEntry, type LedgerEvent, type Note, type WorkOrder } from "../../../core/types.js";

type Pulled = ContextEntry & Freshness;
type Full = WorkOrder & { notes: Note[]; checkpoints?: Checkpoint[]; context?: { linked: Pulled | null; also_linked?: Pulled[]; dependencies: Pulled[] } };

/** What was handed over about this WO and about the WOs it depends on (issue 28: the page showed only that some existed). */
function handedOver(w: Full): HTMLElement {
  const c = w.context;
  const own = c ? [...(c.linked ? [c.linked] : []), ...(c.also_linked ?? [])] : [];
  const deps = c?.dependencies ?? [];
  if (own.length === 0 && deps.length === 0) return h("p", { class: "muted" }, "Nothing handed over yet.");
  return h(
    "div",
    { class: "wo-context" },
    own.map((x) => contextEntry(x)),
    deps.map((x) => contextEntry(x, `from ${woRef(x.wo ?? 0)}`)),
  );
}

const section = (title: string, ...body: Child[]) => h("section", { class: "wo-section" }, h("h2", {}, title), ...body);
const text = (v: string) => (v ? h("p", { class: "pre" }, v) : h("p", { class: "muted" }, "—"));

function diffTable(changes: Record<string, { from: unknown; to: unknown }>): HTMLElement {
  const fmt = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  return h(
    "table",
    { class: "diff" },
    h("thead", {}, h("tr", {}, h("th", {}, "field"), h("th", {}, "from"), h("th", {}, "to"))),
    h(
      "tbody",
      {},
      Object.entries(changes).map(([k, d]) => h("tr", {}, h("th", {}, k), h("td", { class: "from" }, fmt(d.from)), h("td", { class: "to" }, fmt(d.to)))),
    ),
  );
}

function historyItem(e: LedgerEvent): HTMLElement {
  const changes = e.type === "updated" ? (e.data.changes as Record<string, { from: unknown; to: unknown }> | undefined) : undefined;
  return eventItem(e, { "data-type": e.type }, e.revision !== null ? h("span", { class: "muted" }, ` (rev ${e.revision})`) : null, changes ? diffTable(changes) : null);
}

export const woView: View = ({ root, me, project, id }) => {
  const stop = new AbortController();
  const path = woPath(project, id);
  const alerts = h("div", { class: "alerts" });
  const body = h("div", {});
  let wo: Full | null = null;
  let editing = false;

  replace(root, h("nav", { class: "crumbs" }, h("a", { href: projectHash(project) }, project), " › ", woRef(id)), alerts, body);

  async function load(): Promise<void> {
    try {
      const [next, history, attempts] = await Promise.all([
        api<Full>("GET", path),
        api<LedgerEvent[]>("GET", `${path}/history?limit=10000`),
        api<AttemptView[]>("GET", `${path}/attempts`),
      ]);
      const deps = await Promise.all(next.depends_on.map((d) => api<WorkOrder>("GET", woPath(project, d)).catch(() => null)));
      if (editing && wo && next.revision !== wo.revision) {
        replace(
          alerts,
          h(
            "div",
            { class: "alert conflict", role: "alert" },
            `${woRef(id)} changed while you were editing (now revision ${next.revision} by ${history.at(-1)?.agent ?? "someone"}). ` +
              "Saving will be refused; cancel and edit again to start from the new version.",
          ),
        );
        return;
      }
      wo = next;
      if (!editing) draw(next, history, deps, attempts);
    } catch (e) {
      replace(alerts, errorBox(e));
    }
  }

  async function act(label: string, request: () => Promise<unknown>): Promise<void> {
    replace(alerts, h("p", { class: "muted" }, `${label}…`));
    try {
      await request();
      replace(alerts);
      await load();
    } catch (e) {
      replace(alerts, errorBox(e));
    }
  }

  function actions(w: Full): HTMLElement | null {
    if (!canAct(me)) return null;
    const patch = (status: string) => () => act(status === "open" ? "Reopening" : "Cancelling", () => api("PATCH", path, { status, if_revision: w.revision }));
    return h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onclick: () => edit(w) }, "Edit"),
      ["blocked", "done", "cancelled"].includes(w.status) ? h("button", { type: "button", onclick: patch("open") }, "Reopen") : null,
      w.status !== "cancelled"
        ? h("button", { type: "button", class: "danger", onclick: () => confirm(`Cancel ${woRef(id)}? It leaves the queue.`) && patch("cancelled")() }, "Cancel work order")
        : null,
    );
  }

  function edit(w: Full): void {
    editing = true;
    replace(alerts);
    replace(
      body,
      h("h1", {}, `Edit ${woRef(id)}`),
      h("p", { class: "muted" }, `Editing revision ${w.revision}.`),
      woForm(w, "Save", async (fields) => {
        const diff = changed(w, fields);
        if (Object.keys(diff).length === 0) throw new Error("Nothing changed.");
        await api("PATCH", path, { fields: diff, if_revision: w.revision });
        editing = false;
        replace(alerts);
        await load();
      }),
      h("button", { type: "button", class: "link", onclick: () => ((editing = false), replace(alerts), void load()) }, "Discard changes"),
    );
  }

  function noteForm(): HTMLElement | null {
    if (!canAct(me)) return null;
    const area = h("textarea", { id: "note-body", name: "body", rows: 3, required: true });
    const kind = h(
      "select",
      { id: "note-kind", name: "kind" },
      NOTE_KINDS.filter((k) => k !== "verification").map((k) => h("option", { value: k }, k)),
    );
    return h(
      "form",
      { class: "note-form", onsubmit: (e: Event) => (e.preventDefault(), void act("Adding note", () => api("POST", `${path}/notes`, { kind: kind.value, body: area.value }))) },
      h("label", { for: "note-body" }, "Add a note"),
      area,
      h("div", { class: "actions" }, h("label", { for: "note-kind" }, "Kind "), kind, h("button", { type: "submit" }, "Add note")),
    );
  }

  function draw(w: Full, history: LedgerEvent[], deps: (WorkOrder | null)[], attempts: AttemptView[]): void {
    replace(
      body,
      h(
        "div",
        { class: "page-head", "data-wo": w.id },
        h("h1", {}, h("span", { class: "ref" }, woRef(w.id)), " ", w.title),
        statusBadge(w.status),
        priorityBadge(w.priority),
        stageBadge(w.stage),
        labelChips(w.labels),
        requiresChips(w.requires),
        h("span", { class: "muted", "data-revision": w.revision }, `rev ${w.revision}`),
      ),
      w.lease ? h("p", { class: "lease-row", "data-wo": w.id }, "Claimed by ", leaseLine(w.lease), ` · fencing token ${w.lease.token}`) : null,
      deadLetter(w),
      actions(w),
      h(
        "div",
        { class: "wo-grid" },
        h(
          "div",
          {},
          section("Description", text(w.description)),
          section(
            "Acceptance criteria",
            w.acceptance.length
              ? h(
                  "ul",
                  { class: "checklist" },
                  w.acceptance.map((a) => h("li", {}, h("input", { type: "checkbox", disabled: true, "aria-label": a }), " ", a)),
                )
              : text(""),
          ),
          section("Scope", text(w.scope)),
          section("Handover", text(w.handover)),
          section("Context", handedOver(w)),
          section(
            "Notes",
            w.notes.length
              ? h(
                  "ol",
                  { class: "timeline" },
                  w.notes.map((n) =>
                    h(
                      "li",
                      { class: `note k-${n.kind}` },
                      h(
                        "div",
                        {},
                        h("span", { class: "badge" }, n.kind),
                        " ",
                        h("strong", {}, n.agent),
                        " ",
                        h("time", { datetime: n.created_at, title: n.created_at }, ago(n.created_at)),
                      ),
                      h("p", { class: "pre" }, n.body),
                    ),
                  ),
                )
              : text(""),
            noteForm(),
          ),
          section("Attempts", attemptTimeline(attempts, leftBehind(attempts, w.notes, w.checkpoints ?? []))),
          section(
            "Checkpoints",
            w.checkpoints?.length
              ? h(
                  "ol",
                  { class: "timeline" },
                  w.checkpoints.map((k) =>
                    h(
                      "li",
                      {},
                      h("code", { title: k.commit }, k.commit.slice(0, 12)),
                      " ",
                      h("strong", {}, k.agent),
                      ` (lease ${k.token}) `,
                      h("time", { datetime: k.at, title: k.at }, ago(k.at)),
                      h("p", { class: "pre" }, k.message),
                    ),
                  ),
                )
              : text(""),
          ),
          section("History", h("ol", { class: "history" }, history.map(historyItem))),
        ),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Files"),
          h(
            "dd",
            {},
            w.files.length
              ? h(
                  "ul",
                  {},
                  w.files.map((f) => h("li", {}, h("code", {}, f))),
                )
              : "—",
          ),
          h("dt", {}, "Branch"),
          h("dd", {}, h("code", {}, w.branch)),
          h("dt", {}, "Verification"),
          h("dd", {}, w.verification ? h("code", {}, w.verification) : "—"),
          h("dt", {}, "Repository"),
          h("dd", {}, w.repo || "—"),
          h("dt", {}, "Depends on"),
          h(
            "dd",
            {},
            w.depends_on.length
              ? h(
                  "ul",
                  { class: "deps" },
                  w.depends_on.map((d, i) =>
                    h(
                      "li",
                      {},
                      h("a", { href: woHash(project, d) }, woRef(d)),
                      " ",
                      deps[i] ? [statusBadge(deps[i]!.status), " ", deps[i]!.title] : h("span", { class: "muted" }, "missing"),
                    ),
                  ),
                )
              : "—",
          ),
          budgetFacts(w),
          h("dt", {}, "Created"),
          h("dd", {}, `${w.created_by}, ${ago(w.created_at)}`),
          h("dt", {}, "Updated"),
          h("dd", {}, ago(w.updated_at)),
        ),
      ),
    );
  }

  const ticker = setInterval(() => {
    if (!editing && tick(body).length) void load();
  }, 1000);

  void (async () => {
    const seq = await lastSeq(project).catch(() => 0);
    await load();
    follow(
      project,
      seq,
      (e) => {
        if (e.wo === id || (e.wo !== null && wo?.depends_on.includes(e.wo))) void load();
      },
      () => {},
      stop.signal,
    );
  })();

  return () => {
    stop.abort();
    clearInterval(ticker);
  };
};
