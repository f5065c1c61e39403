/**
 * The board's view state, kept in the URL so every view is a deep link:
 * `#/p/ancc?status=open&stage=ready&label=bug&requires=db&agent=a&priority=P1&q=crash&cancelled=1`.
 */
import { PRIORITIES, STATUSES, type Priority, type Status, type WorkOrder } from "../../../core/types.js";

export interface Filters {
  status?: Status | undefined;
  /** A stage of the project's pipeline. */
  stage?: string | undefined;
  label?: string | undefined;
  /** A capability the WO requires. */
  requires?: string | undefined;
  agent?: string | undefined;
  priority?: Priority | undefined;
  q?: string | undefined;
  /** Show the cancelled column (hidden by default). */
  cancelled: boolean;
}

export const BOARD_COLUMNS: readonly Status[] = ["open", "claimed", "blocked", "done"];

const nonEmpty = (v: string | null): string | undefined => (v && v.trim() ? v.trim() : undefined);

export function parseFilters(params: URLSearchParams): Filters {
  const status = params.get("status");
  const priority = params.get("priority");
  return {
    status: (STATUSES as readonly string[]).includes(status ?? "") ? (status as Status) : undefined,
    stage: nonEmpty(params.get("stage")),
    label: nonEmpty(params.get("label")),
    requires: nonEmpty(params.get("requires")),
    agent: nonEmpty(params.get("agent")),
    priority: (PRIORITIES as readonly string[]).includes(priority ?? "") ? (priority as Priority) : undefined,
    q: nonEmpty(params.get("q")),
    cancelled: params.get("cancelled") === "1",
  };
}

export function filtersToQuery(f: Filters): string {
  const p = new URLSearchParams();
  if (f.status) p.set("status", f.status);
  if (f.stage) p.set("stage", f.stage);
  if (f.label) p.set("label", f.label);
  if (f.requires) p.set("requires", f.requires);
  if (f.agent) p.set("agent", f.agent);
  if (f.priority) p.set("priority", f.priority);
  if (f.q) p.set("q", f.q);
  if (f.cancelled) p.set("cancelled", "1");
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Columns to draw: the chosen status alone, or the board's four (plus cancelled when asked). */
export function columns(f: Filters): Status[] {
  if (f.status) return [f.status];
  return f.cancelled ? [...BOARD_COLUMNS, "cancelled"] : [...BOARD_COLUMNS];
}

/** Free text matches the reference (WO-12 or 12), title, description, labels, files, repo and the holder. */
export function matches(wo: WorkOrder, f: Filters): boolean {
  if (f.stage && wo.stage !== f.stage) return false;
  if (f.label && !wo.labels.includes(f.label)) return false;
  if (f.requires && !wo.requires.includes(f.requires)) return false;
  if (f.agent && wo.lease?.agent !== f.agent) return false;
  if (f.priority && wo.priority !== f.priority) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    const ref = q.replace(/^wo-/, "");
    if (/^\d+$/.test(ref) && Number(ref) === wo.id) return true;
    const hay = [wo.title, wo.description, wo.repo, wo.scope, wo.lease?.agent ?? "", ...wo.labels, ...wo.files].join("\n").toLowerCase();
    if (!hay.includes(q)) return false;
  }
  return true;
}

const RANK: Record<Priority, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

/** Most urgent first, then oldest (the order find-unclaimed uses). */
export function byUrgency(a: WorkOrder, b: WorkOrder): number {
  return RANK[a.priority] - RANK[b.priority] || a.id - b.id;
}
