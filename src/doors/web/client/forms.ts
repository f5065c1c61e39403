/** The work-order form (create and edit) and the create view. */
import { api, woPath } from "./api.js";
import { h, replace } from "./dom.js";
import { canAct, errorBox, projectHash, woHash, type View } from "./view.js";
import { PRIORITIES, type WorkOrder, type WorkOrderFields } from "../../../core/types.js";

type Kind = "line" | "text" | "lines" | "list" | "ids" | "priority" | "cap";
const FIELDS: [keyof WorkOrderFields, string, Kind, string?][] = [
  ["title", "Title", "line"],
  ["priority", "Priority", "priority"],
  ["description", "Description", "text"],
  ["acceptance", "Acceptance criteria", "lines", "one per line"],
  ["scope", "Scope", "text"],
  ["files", "Files", "lines", "paths or globs, one per line"],
  ["verification", "Verification command", "line", "a shell command that must pass"],
  ["repo", "Repository", "line"],
  ["labels", "Labels", "list", "comma-separated"],
  ["depends_on", "Depends on", "ids", "ids, comma-separated (e.g. 3, WO-7)"],
  ["handover", "Handover", "text"],
  ["max_usd", "Budget: USD", "cap", "cap in USD; empty: none (changing it on an existing work order is for admins)"],
  ["max_tokens", "Budget: tokens", "cap", "cap on input plus output tokens; empty: none"],
  ["max_attempts", "Budget: attempts", "cap", "at most this many claims; empty: none"],
];

const show = (wo: Partial<WorkOrderFields>, k: keyof WorkOrderFields, kind: Kind): string => {
  const v = wo[k];
  if (v === undefined || v === null) return kind === "priority" ? "P2" : "";
  if (Array.isArray(v)) return kind === "lines" ? v.join("\n") : v.join(", ");
  return String(v);
};

/** Form text to field values; anything that is not an id is passed on for the server's schema to name. */
function read(form: HTMLFormElement): Partial<Record<keyof WorkOrderFields, unknown>> {
  const out: Partial<Record<keyof WorkOrderFields, unknown>> = {};
  for (const [k, , kind] of FIELDS) {
    const raw = (form.elements.namedItem(k) as HTMLInputElement).value;
    const items = (sep: RegExp) =>
      raw
        .split(sep)
        .map((s) => s.trim())
        .filter(Boolean);
    if (kind === "lines") out[k] = items(/\n/);
    else if (kind === "list") out[k] = items(/,/);
    else if (kind === "cap") out[k] = raw.trim() === "" ? null : /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    else if (kind === "ids") out[k] = items(/[,\s]+/).map((s) => (/^(wo-)?\d+$/i.test(s) ? Number(s.replace(/^wo-/i, "")) : s));
    else out[k] = kind === "line" ? raw.trim() : raw;
  }
  return out;
}

export function woForm(
  initial: Partial<WorkOrderFields>,
  submitLabel: string,
  onSubmit: (fields: Partial<Record<keyof WorkOrderFields, unknown>>, form: HTMLFormElement) => Promise<void>,
): HTMLFormElement {
  const status = h("div", { class: "form-status" });
  const button = h("button", { type: "submit" }, submitLabel);
  const form = h(
    "form",
    { class: "wo-form" },
    FIELDS.map(([k, label, kind, help]) => {
      const id = `f-${k}`;
      const value = show(initial, k, kind);
      const control =
        kind === "priority"
          ? h(
              "select",
              { id, name: k },
              PRIORITIES.map((p) => h("option", { value: p, selected: p === value }, p)),
            )
          : kind === "text" || kind === "lines"
            ? h("textarea", { id, name: k, rows: kind === "text" ? 4 : 3 }, value)
            : h("input", { id, name: k, value, required: k === "title", maxlength: k === "title" ? 200 : null, autocomplete: "off" });
      return h("div", { class: "field" }, h("label", { for: id }, label), control, help ? h("small", { class: "muted" }, help) : null);
    }),
    h("div", { class: "actions" }, button),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    replace(status);
    try {
      await onSubmit(read(form), form);
    } catch (err) {
      replace(status, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Only the fields that differ, so saving an untouched form changes nothing. */
export function changed(before: WorkOrder, after: Partial<Record<keyof WorkOrderFields, unknown>>): Partial<Record<keyof WorkOrderFields, unknown>> {
  const out: Partial<Record<keyof WorkOrderFields, unknown>> = {};
  for (const [k, v] of Object.entries(after) as [keyof WorkOrderFields, unknown][]) if (JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = v;
  return out;
}

export const createView: View = ({ root, me, project, navigate }) => {
  const back = h("nav", { class: "crumbs" }, h("a", { href: projectHash(project) }, project), " › new work order");
  if (!canAct(me)) {
    replace(root, back, h("p", { class: "alert" }, "Only agent and admin tokens can create work orders here; this token can only read."));
    return () => {};
  }
  replace(
    root,
    back,
    h("h1", {}, "New work order"),
    woForm({}, "Create", async (fields) => {
      // An empty cap leaves the project's default in place.
      const item = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null));
      const [wo] = await api<WorkOrder[]>("POST", woPath(project), { items: [item] });
      navigate(woHash(project, wo!.id));
    }),
  );
  (root.querySelector("#f-title") as HTMLInputElement | null)?.focus();
  return () => {};
};
