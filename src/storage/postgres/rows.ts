/**
 * Row <-> record mapping for the PostgreSQL adapter. The pool's type parsers
 * (store.ts) already turn timestamptz into ISO strings, bigint into numbers,
 * text[] / integer[] into arrays and json into values, so rows need little
 * more than renaming the lease columns.
 */
import type { ContextEntry, LedgerEvent, Note, StoredWorkOrder } from "../../core/types.js";

export interface WorkOrderRow {
  project: string;
  id: number;
  title: string;
  description: string;
  repo: string;
  acceptance: string[];
  scope: string;
  files: string[];
  verification: string;
  priority: string;
  handover: string;
  labels: string[];
  depends_on: number[];
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
    acceptance: r.acceptance,
    scope: r.scope,
    files: r.files,
    verification: r.verification,
    priority: r.priority as StoredWorkOrder["priority"],
    handover: r.handover,
    labels: r.labels,
    depends_on: r.depends_on,
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

/** Columns in a fixed order, so statements are built once and their parameters line up. */
export const WO_COLUMNS = [
  "project", "id", "title", "description", "repo", "acceptance", "scope", "files", "verification", "priority", "handover", "labels", "depends_on",
  "status", "prior_status", "lease_agent", "lease_token", "lease_claimed_at", "lease_expires_at", "lease_renewed_at", "fence", "revision",
  "created_by", "created_at", "updated_at",
] as const satisfies readonly (keyof WorkOrderRow)[];

/** Parameter values in WO_COLUMNS order (pg sends JS arrays as SQL arrays). */
export function woParams(wo: StoredWorkOrder): unknown[] {
  const row: WorkOrderRow = {
    project: wo.project,
    id: wo.id,
    title: wo.title,
    description: wo.description,
    repo: wo.repo,
    acceptance: wo.acceptance,
    scope: wo.scope,
    files: wo.files,
    verification: wo.verification,
    priority: wo.priority,
    handover: wo.handover,
    labels: wo.labels,
    depends_on: wo.depends_on,
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
  return WO_COLUMNS.map((c) => row[c]);
}

export type EventRow = LedgerEvent;
export type NoteRow = Note;
export type ContextRow = ContextEntry;
