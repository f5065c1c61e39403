/** Pieces of a work order shared by the board and the WO page. */
import { h } from "./dom.js";
import { ago, countdown, leaseState } from "./time.js";
import { woHash } from "./view.js";
import { cardUsage } from "./budget.js";
import type { Lease, WorkOrder } from "../../../core/types.js";

export const statusBadge = (status: string): HTMLElement => h("span", { class: `badge s-${status}`, "data-status": status }, status);
export const priorityBadge = (p: string): HTMLElement => h("span", { class: `badge p-${p}` }, p);
export const labelChips = (labels: string[]): HTMLElement[] => labels.map((l) => h("span", { class: "chip" }, l));
/** Where it is in the pipeline, and what an agent needs to take it. */
export const stageBadge = (stage: string | null): HTMLElement | null => (stage === null ? null : h("span", { class: "badge stage", "data-stage": stage, title: "stage" }, stage));
export const requiresChips = (requires: string[]): HTMLElement[] => requires.map((r) => h("span", { class: "chip requires", title: "requires" }, `needs ${r}`));

/** A lease countdown; `tick` keeps every one on the page current. */
export function leaseLine(lease: Lease): HTMLElement {
  const { state, remainingMs } = leaseState(lease);
  return h(
    "span",
    { class: `lease ${state}`, "data-expires": lease.expires_at, "data-claimed": lease.renewed_at ?? lease.claimed_at },
    h("span", { class: "agent" }, lease.agent),
    " · ",
    h("span", { class: "countdown" }, countdown(remainingMs)),
  );
}

/** Updates every countdown and relative time in `root`; returns the WOs whose lease has run out. */
export function tick(root: HTMLElement): number[] {
  for (const t of root.querySelectorAll<HTMLTimeElement>("time[datetime]")) t.textContent = ago(t.dateTime);
  const expired: number[] = [];
  for (const el of root.querySelectorAll<HTMLElement>("[data-expires]")) {
    const { state, remainingMs } = leaseState({ expires_at: el.dataset.expires ?? "", claimed_at: el.dataset.claimed ?? "", renewed_at: null });
    el.classList.remove("live", "warn", "expired");
    el.classList.add(state);
    const cd = el.querySelector(".countdown");
    if (cd) cd.textContent = countdown(remainingMs);
    const id = Number(el.closest<HTMLElement>("[data-wo]")?.dataset.wo);
    if (state === "expired" && id) expired.push(id);
  }
  return expired;
}

export function card(wo: WorkOrder): HTMLElement {
  return h(
    "li",
    { class: `card s-${wo.status}`, "data-wo": wo.id, "data-status": wo.status },
    h("a", { href: woHash(wo.project, wo.id), class: "card-link" }, h("span", { class: "ref" }, `WO-${wo.id}`), " ", h("span", { class: "title" }, wo.title)),
    h("div", { class: "meta" }, priorityBadge(wo.priority), stageBadge(wo.stage), labelChips(wo.labels), requiresChips(wo.requires)),
    wo.lease ? h("div", {}, leaseLine(wo.lease)) : null,
    cardUsage(wo),
  );
}
