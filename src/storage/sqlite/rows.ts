/** Row <-> record mapping for the SQLite adapter. */
import type { ContextEntry, LedgerEvent, Note, StoredWorkOrder } from "../../core/types.js";

export interface WorkOrderRow {
  project: string;
  id: number;
  title: string;
  description: string;
  repo: string;
  acceptance: string;
  scope: string;
  files: string;
  verification: string;
  priority: string;
  handover: string;
  labels: string;
  depends_on: string;
  status: string;
  prior_status: string | null;
  lease_agent: string | null;
  lease_token: number | null;
  lease_claimed_at: string | null;
  lease_expires_at: string | null;
  lease_renewed_at: string | null;
  fence: number;
  revision: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export function toWorkOrder(r: WorkOrderRow): StoredWorkOrder {
  return {
    project: r.project,
    id: r.id,
    title: r.title,
    description: r.description,
    repo: r.repo,
    acceptance: JSON.parse(r.acceptance) as string[],
    scope: r.scope,
    files: JSON.parse(r.files) as string[],
    verification: r.verification,
    priority: r.priority as StoredWorkOrder["priority"],
    handover: r.handover,
    labels: JSON.parse(r.labels) as string[],
    depends_on: JSON.parse(r.depends_on) as number[],
    status: r.status as StoredWorkOrder["status"],
    lease:
      r.lease_agent === null || r.lease_expires_at === null
        ? null
        : { agent: r.lease_agent, token: r.lease_token ?? 0, claimed_at: r.lease_claimed_at ?? "", expires_at: r.lease_expires_at, renewed_at: r.lease_renewed_at },
    revision: r.revision,
    created_by: r.created_by,
    created_at: r.created_at,
    updated_at: r.updated_at,
    prior_status: r.prior_status as StoredWorkOrder["prior_status"],
    fence: r.fence,
  };
}

export function fromWorkOrder(wo: StoredWorkOrder): WorkOrderRow {
  return {
    project: wo.project,
    id: wo.id,
    title: wo.title,
    description: wo.description,
    repo: wo.repo,
    acceptance: JSON.stringify(wo.acceptance),
    scope: wo.scope,
    files: JSON.stringify(wo.files),
    verification: wo.verification,
    priority: wo.priority,
    handover: wo.handover,
    labels: JSON.stringify(wo.labels),
    depends_on: JSON.stringify(wo.depends_on),
    status: wo.status,
    prior_status: wo.prior_status,
    lease_agent: wo.lease?.agent ?? null,
    lease_token: wo.lease?.token ?? null,
    lease_claimed_at: wo.lease?.claimed_at ?? null,
    lease_expires_at: wo.lease?.expires_at ?? null,
    lease_renewed_at: wo.lease?.renewed_at ?? null,
    fence: wo.fence,
    revision: wo.revision,
    created_by: wo.created_by,
    created_at: wo.created_at,
    updated_at: wo.updated_at,
  };
}

export const WO_COLUMNS = Object.keys(fromWorkOrder({ lease: null } as StoredWorkOrder));

export type EventRow = Omit<LedgerEvent, "data"> & { data: string };
export const toEvent = (r: EventRow): LedgerEvent => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> });

export type NoteRow = Note;

export type ContextRow = Omit<ContextEntry, "git"> & { git: string | null };
export const toContext = (r: ContextRow): ContextEntry => ({ ...r, git: r.git === null ? null : (JSON.parse(r.git) as ContextEntry["git"]) });
