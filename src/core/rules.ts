/**
 * The work-order state machine and lease rules (DESIGN.md §4), as pure
 * functions of (stored record, caller, time). Stores make them atomic; they
 * never decide anything themselves.
 */
import { LedgerError } from "./errors.js";
import { formatDuration } from "./duration.js";
import type { WoCreate, WoPatch } from "./schemas.js";
import type { Lease, NewEvent, RestingStatus, Status, StoredWorkOrder, WorkOrder, WorkOrderFields } from "./types.js";

export interface Change {
  /** The record the rule was applied to, as read in this transaction. */
  prev: StoredWorkOrder;
  next: StoredWorkOrder;
  events: NewEvent[];
}

export const label = (id: number) => `WO-${id}`;

export function isLive(lease: Lease | null, now: string): lease is Lease {
  return lease !== null && lease.expires_at > now;
}

/** The record as every reader must see it at `now`: an expired lease is absent. */
export function effective(wo: StoredWorkOrder, now: string): StoredWorkOrder {
  if (wo.lease === null || isLive(wo.lease, now)) return wo;
  return { ...wo, status: wo.status === "claimed" ? (wo.prior_status ?? "open") : wo.status, lease: null, prior_status: null };
}

/** The public shape: the stored bookkeeping fields are not part of the contract. */
export function toPublic(wo: StoredWorkOrder): WorkOrder {
  const { prior_status: _p, fence: _f, pinned_verification: _v, ...pub } = wo;
  return pub;
}

function event(wo: StoredWorkOrder, type: NewEvent["type"], agent: string, at: string, data: Record<string, unknown> = {}): NewEvent {
  return { project: wo.project, wo: wo.id, type, agent, revision: wo.revision, at, data };
}

function bump(wo: StoredWorkOrder, at: string, patch: Partial<StoredWorkOrder>): StoredWorkOrder {
  return { ...wo, ...patch, revision: wo.revision + 1, updated_at: at };
}

/** Records the lazy expiry of a lease whose time has passed, or null when there is none. */
export function expire(wo: StoredWorkOrder, now: string): Change | null {
  if (wo.lease === null || isLive(wo.lease, now)) return null;
  const next = bump(wo, now, { status: wo.prior_status ?? "open", lease: null, prior_status: null });
  const { agent, token, expires_at } = wo.lease;
  return { prev: wo, next, events: [event(next, "expired", agent, now, { holder: agent, token, expires_at, status: next.status })] };
}

function leaseHeld(wo: StoredWorkOrder, lease: Lease, now: string, caller: string): LedgerError {
  const left = formatDuration(Date.parse(lease.expires_at) - Date.parse(now));
  const own = lease.agent === caller;
  return new LedgerError("LEASE_HELD", `${label(wo.id)} is claimed by ${lease.agent} until ${lease.expires_at} (expires in ${left})`, {
    hint: own ? "you already hold this lease: {{op:renew}} it, or {{op:release}} it first" : "pick another work order ({{op:findUnclaimed}})",
    details: { project: wo.project, id: wo.id, holder: lease.agent, expires_at: lease.expires_at },
  });
}

function leaseLost(wo: StoredWorkOrder, why: string): LedgerError {
  return new LedgerError("LEASE_LOST", `your lease on ${label(wo.id)} is gone: ${why}`, {
    hint: "stop working on it and {{op:claim}} it again (someone may have taken it meanwhile)",
    details: { project: wo.project, id: wo.id, holder: wo.lease?.agent ?? null, status: wo.status },
  });
}

/**
 * Who the caller is relative to the lease. Throws when a holder-only action is
 * attempted by someone else (LEASE_HELD) or with a lease that is no longer
 * theirs (LEASE_LOST). `wo` must already be the effective view.
 */
export function holding(wo: StoredWorkOrder, agent: string, now: string, token: number | undefined, mustHold: boolean): boolean {
  const lease = wo.lease;
  if (isLive(lease, now)) {
    // A stale token means the caller's own lease ended, whoever holds the WO now: stop, do not "pick another".
    if (token !== undefined && token !== lease.token) throw leaseLost(wo, `token ${token} is stale, the current lease has token ${lease.token}`);
    if (lease.agent !== agent) throw leaseHeld(wo, lease, now, agent);
    return true;
  }
  if (mustHold) throw leaseLost(wo, wo.fence > 0 ? "it expired or was released" : "it was never claimed");
  if (token !== undefined) throw leaseLost(wo, `token ${token} is stale, nobody holds a lease now`);
  return false;
}

/** A new work order: the defaults of every field not given, open, at revision 1, and its `created` event. */
export function create(project: string, id: number, fields: WoCreate, agent: string, now: string): { wo: StoredWorkOrder; event: NewEvent } {
  const wo: StoredWorkOrder = {
    project,
    id,
    title: fields.title,
    description: fields.description ?? "",
    repo: fields.repo ?? "",
    acceptance: fields.acceptance ?? [],
    scope: fields.scope ?? "",
    files: fields.files ?? [],
    verification: fields.verification ?? "",
    priority: fields.priority ?? "P2",
    handover: fields.handover ?? "",
    labels: fields.labels ?? [],
    depends_on: fields.depends_on ?? [],
    status: "open",
    lease: null,
    revision: 1,
    created_by: agent,
    created_at: now,
    updated_at: now,
    prior_status: null,
    fence: 0,
    pinned_verification: null,
  };
  const { project: _p, id: _i, status: _s, lease: _l, revision: _r, created_by: _c, created_at: _ca, updated_at: _u, ...initial } = toPublic(wo);
  return { wo, event: event(wo, "created", agent, now, { fields: initial }) };
}

export function claim(wo: StoredWorkOrder, agent: string, now: string, ttlMs: number, pendingDeps: number[]): Change {
  if (isLive(wo.lease, now)) throw leaseHeld(wo, wo.lease, now, agent);
  if (wo.status === "done" || wo.status === "cancelled") {
    throw new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} is ${wo.status} and cannot be claimed`, {
      hint: "pick another work order ({{op:findUnclaimed}}), or reopen it with {{op:update}} {{status=open}}",
      details: { project: wo.project, id: wo.id, status: wo.status },
    });
  }
  if (pendingDeps.length > 0) {
    throw new LedgerError("DEPENDENCY_PENDING", `${label(wo.id)} depends on ${pendingDeps.map(label).join(", ")}, not done yet`, {
      hint: "pick another work order ({{op:findUnclaimed}} lists only those whose dependencies are done)",
      details: { project: wo.project, id: wo.id, pending: pendingDeps },
    });
  }
  const token = wo.fence + 1;
  const expires_at = new Date(Date.parse(now) + ttlMs).toISOString();
  const lease: Lease = { agent, token, claimed_at: now, expires_at, renewed_at: null };
  // The holder's verify runs the command as it is now (see verification.ts).
  const next = bump(wo, now, { status: "claimed", prior_status: wo.status as RestingStatus, lease, fence: token, pinned_verification: wo.verification });
  return { prev: wo, next, events: [event(next, "claimed", agent, now, { token, expires_at, ttl_ms: ttlMs })] };
}

export function renew(wo: StoredWorkOrder, agent: string, now: string, ttlMs: number, token?: number): Change {
  holding(wo, agent, now, token, true);
  const lease = wo.lease as Lease;
  const expires_at = new Date(Date.parse(now) + ttlMs).toISOString();
  const next = bump(wo, now, { lease: { ...lease, expires_at, renewed_at: now } });
  return { prev: wo, next, events: [event(next, "renewed", agent, now, { token: lease.token, expires_at, ttl_ms: ttlMs })] };
}

export function release(wo: StoredWorkOrder, agent: string, now: string, status?: RestingStatus, token?: number): Change {
  holding(wo, agent, now, token, true);
  const to = status ?? wo.prior_status ?? "open";
  const next = bump(wo, now, { status: to, lease: null, prior_status: null });
  return { prev: wo, next, events: [event(next, "released", agent, now, { token: wo.lease?.token, status: to })] };
}

const TRANSITIONS: Record<RestingStatus, readonly RestingStatus[]> = {
  open: ["blocked", "done", "cancelled"],
  blocked: ["open", "done", "cancelled"],
  done: ["open"],
  cancelled: ["open"],
};

export interface UpdateRequest {
  fields?: WoPatch | undefined;
  status?: RestingStatus | undefined;
  ifRevision?: number | undefined;
  token?: number | undefined;
}

/** Field edits and/or a status change. A holder's status change ends the lease in the same step. */
export function update(wo: StoredWorkOrder, agent: string, now: string, req: UpdateRequest): Change {
  if (req.ifRevision !== undefined && req.ifRevision !== wo.revision) {
    throw new LedgerError("REVISION_MISMATCH", `${label(wo.id)} is at revision ${wo.revision}, not ${req.ifRevision}`, {
      hint: "{{op:get}} it again, re-apply your change to the current version, and retry with the new {{if_revision}}",
      details: { project: wo.project, id: wo.id, revision: wo.revision, expected: req.ifRevision },
    });
  }
  const holder = holding(wo, agent, now, req.token, false);
  const changes = diff(wo, req.fields ?? {});
  const from: Status = wo.status;
  const to = req.status;
  if (to !== undefined && !holder && to !== from && !TRANSITIONS[from as RestingStatus].includes(to)) {
    throw new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} cannot go from ${from} to ${to}`, {
      hint: `allowed from ${from}: ${TRANSITIONS[from as RestingStatus].join(", ")}`,
      details: { project: wo.project, id: wo.id, from, to },
    });
  }
  const statusChanges = to !== undefined && (holder || to !== from);
  if (Object.keys(changes).length === 0 && !statusChanges) return { prev: wo, next: wo, events: [] };

  const patch = Object.fromEntries(Object.entries(req.fields ?? {}).filter(([, v]) => v !== undefined)) as Partial<StoredWorkOrder>;
  // A holder who changes the command verifies with what it wrote.
  if (holder && patch.verification !== undefined) patch.pinned_verification = patch.verification;
  if (statusChanges) Object.assign(patch, { status: to, lease: null, prior_status: null });
  const next = bump(wo, now, patch);
  const events: NewEvent[] = [];
  if (Object.keys(changes).length > 0) events.push(event(next, "updated", agent, now, { changes }));
  if (statusChanges) events.push(event(next, "status_changed", agent, now, { from, to, ...(holder ? { lease_ended: true, token: wo.lease?.token } : {}) }));
  return { prev: wo, next, events };
}

type FieldDiff = Partial<Record<keyof WorkOrderFields, { from: unknown; to: unknown }>>;

function diff(wo: StoredWorkOrder, fields: WoPatch): FieldDiff {
  const out: FieldDiff = {};
  for (const [k, v] of Object.entries(fields) as [keyof WorkOrderFields, unknown][]) {
    if (v === undefined) continue;
    if (JSON.stringify(wo[k]) !== JSON.stringify(v)) out[k] = { from: wo[k], to: v };
  }
  return out;
}

/** Holder-only check for actions that are not state changes themselves (e.g. verify --block-on-fail). */
export function assertMayWrite(wo: StoredWorkOrder, agent: string, now: string, token?: number): void {
  holding(wo, agent, now, token, false);
}
