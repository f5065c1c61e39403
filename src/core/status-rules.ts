/**
 * Status changes and field edits (DESIGN.md §4, §9): the holder's release and
 * update, which end its lease in the same step, and who may change a WO
 * nobody holds. The lease primitives they build on are rules.ts's.
 */
import { LedgerError } from "./errors.js";
import { budgetExhausted, budgetReached, capReached, spendCapReached } from "./budget.js";
import type { WoPatch } from "./schemas.js";
import { CAP_FIELDS, label } from "./types.js";
import type { Attempt, AttemptOutcome, EndedLease, Lease, NewEvent, RestingStatus, Role, Status, StoredWorkOrder, WorkOrderFields } from "./types.js";
import { checkDone, type Finish } from "./done.js";
import { afterAttempt, assertNotFenced, attemptOf, bump, endedAs, event, holding, isFinished, isLive, lastEnded, ownRelease, withEnded, type Change } from "./rules.js";

/** Ends the caller's lease, leaving the WO in `status` (default: where it was before the claim) and, handed on, in `stage` (then open by default). */
export function release(wo: StoredWorkOrder, agent: string, now: string, status?: RestingStatus, token?: number, finish?: Finish, stage?: string): Change {
  holding(wo, agent, now, token, true);
  const moved = stage !== undefined && stage !== wo.stage;
  const requested = status ?? (moved ? "open" : (wo.prior_status ?? "open"));
  const lease = wo.lease as Lease;
  const outcome = endedAs(requested, moved);
  // Done is judged in the stage the WO is in: handing it on to the done stage and finishing it is two agents' work, not one step.
  const done = requested === "done" ? checkDone(wo, agent, finish, wo.stage) : { warnings: [], data: {} };
  const { status: to, dead_letter, extra } = afterAttempt(wo, requested);
  const next = bump(wo, now, {
    status: to,
    dead_letter,
    lease: null,
    prior_status: null,
    ended_leases: withEnded(wo, {
      agent,
      token: lease.token,
      at: now,
      how: "ended",
      status: to,
      via: "release",
      revision: wo.revision + 1,
      ...(outcome === "handed_on" ? { handed_on: true as const } : {}),
    }),
    ...(moved ? { stage } : {}),
  });
  const data = { token: lease.token, status: to, outcome, ...(moved ? { stage: { from: wo.stage, to: stage } } : {}), ...done.data, ...(dead_letter ? { dead_letter } : {}) };
  return {
    prev: wo,
    next,
    events: [event(next, "released", agent, now, data)],
    attempt: attemptOf(wo, lease, now, outcome),
    note: extra.note,
    ...warned([...done.warnings, ...(extra.warnings ?? [])]),
  };
}

const warned = (warnings: string[]) => (warnings.length ? { warnings } : {});

const TRANSITIONS: Record<RestingStatus, readonly RestingStatus[]> = {
  open: ["blocked", "done", "cancelled"],
  blocked: ["open", "done", "cancelled"],
  done: ["open"],
  cancelled: ["open"],
};

export interface UpdateRequest {
  /** The caller's role: without a lease, only an admin may change any WO's status. */
  role?: Role | undefined;
  fields?: WoPatch | undefined;
  status?: RestingStatus | undefined;
  /** Hands the WO on to this stage: the holder's lease ends (open, unless a status is given). */
  stage?: string | undefined;
  ifRevision?: number | undefined;
  token?: number | undefined;
  finish?: Finish | undefined;
  /** What made the change, when it ends the caller's lease (verify's block_on_fail). */
  via?: "update" | "verify";
}

/**
 * Dropping a dependency that is not done loosens the rule that done waits for
 * dependencies, so only the WO's creator or an admin may: otherwise any agent
 * could edit a dependency away and finish work whose prerequisite is open.
 */
export function assertMayDropDependencies(wo: StoredWorkOrder, agent: string, role: Role | undefined, pending: number[]): void {
  if (pending.length === 0 || role === "admin" || agent === wo.created_by) return;
  throw new LedgerError(
    "FORBIDDEN",
    `${agent} may not drop ${pending.map(label).join(", ")} from the dependencies of ${label(wo.id)}: not done yet, and only its creator (${wo.created_by}) or an admin may`,
    {
      hint: `finish ${pending.map(label).join(", ")} first, or ask ${wo.created_by} or an admin to change the dependencies`,
      details: { project: wo.project, id: wo.id, pending, created_by: wo.created_by },
    },
  );
}

/** Field edits and/or a status change. A holder's status change ends the lease in the same step. */
export function update(wo: StoredWorkOrder, agent: string, now: string, req: UpdateRequest): Change {
  if (req.ifRevision !== undefined && req.ifRevision !== wo.revision) {
    throw new LedgerError("REVISION_MISMATCH", `${label(wo.id)} is at revision ${wo.revision}, not ${req.ifRevision}`, {
      hint: "{{op:get}} it again, re-apply your change to the current version, and retry with the new {{if_revision}}",
      details: { project: wo.project, id: wo.id, revision: wo.revision, expected: req.ifRevision },
    });
  }
  // A done or cancelled WO has no holder: a remembered token is moot, but a lapsed holder is still fenced.
  const resting = isFinished(wo.status);
  // An admin may change a held WO's budget (raise its cap) without taking the lease; the rest of the contract waits for the holder.
  const onlyCaps = Object.entries(req.fields ?? {}).every(([k, v]) => v === undefined || (CAP_FIELDS as readonly string[]).includes(k));
  const adminEdit = req.role === "admin" && onlyCaps && req.status === undefined && req.stage === undefined && isLive(wo.lease, now) && wo.lease.agent !== agent;
  if (
    req.fields?.verification !== undefined &&
    !adminEdit &&
    isLive(wo.lease, now) &&
    wo.lease.agent !== agent &&
    !wo.ended_leases.some((e) => e.agent === agent && e.how === "expired")
  )
    // Its holder may not change it either (thirteenth MCP trial: each side was sent to the other).
    throw new LedgerError("LEASE_HELD", `${label(wo.id)} is held by ${wo.lease.agent}: its verification command changes only while nobody holds it`, {
      hint: "{{op:addNote}} asking its holder to release it (blocked, with a note), then set it; or leave it to the next attempt",
      details: { project: wo.project, id: wo.id, holder: wo.lease.agent, expires_at: wo.lease.expires_at },
    });
  const holder = resting ? (assertNotFenced(wo, agent, now), false) : adminEdit ? false : holding(wo, agent, now, req.token, false);
  const changes = diff(wo, req.fields ?? {});
  // Reopening in the same step makes it editable again (the reopen itself has its own rule, withoutLease).
  if (!holder && req.role !== "admin" && Object.keys(changes).length) mayEditUnheld(wo, agent, resting && req.status !== "open");
  const moved = req.stage !== undefined && req.stage !== wo.stage;
  if (moved) {
    if (resting && req.status !== "open")
      throw new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} is ${wo.status}: it has no stage to move on to`, {
        hint: "reopen it in the same step ({{status=open}}) to send it back into the pipeline",
        details: { project: wo.project, id: wo.id, status: wo.status, stage: req.stage },
      });
    changes.stage = { from: wo.stage, to: req.stage };
  }
  const from: Status = wo.status;
  // Handing a held WO on ends the lease: it waits, open, for the next stage's agents.
  const to = req.status ?? (moved && holder ? "open" : undefined);
  if (to !== undefined && !holder && to !== from && !TRANSITIONS[from as RestingStatus].includes(to)) {
    throw new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} cannot go from ${from} to ${to}`, {
      hint: `allowed from ${from}: ${TRANSITIONS[from as RestingStatus].join(", ")}${from === "done" ? " (by an admin: a done work order is its record)" : ""}`,
      details: { project: wo.project, id: wo.id, from, to },
    });
  }
  const statusChanges = to !== undefined && (holder || to !== from);
  // Cancelling withdraws the contract: its creator's or an admin's call, not its holder's (fourteenth MCP trial).
  if (statusChanges && holder && to === "cancelled" && agent !== wo.created_by && req.role !== "admin")
    throw new LedgerError("FORBIDDEN", `only ${label(wo.id)}'s creator (${wo.created_by}) or an admin may cancel it`, {
      hint: "{{op:release}} it {{status=blocked}} with a note saying why it should not be done: its creator decides",
      details: { project: wo.project, id: wo.id, created_by: wo.created_by },
    });
  const patch = Object.fromEntries(Object.entries(req.fields ?? {}).filter(([, v]) => v !== undefined)) as Partial<StoredWorkOrder>;
  if (moved) patch.stage = req.stage ?? null;
  // Budgets are judged with the caps as this change leaves them (raising one and reopening may go together).
  const patched: StoredWorkOrder = { ...wo, ...patch };
  const budget = statusChanges ? null : rebudget(wo, patched, changes);
  // Set to what it already is by someone not holding it: say so (thirteenth MCP trial: "done" on a done WO read as a success).
  const already = to !== undefined && !holder && to === from ? [`${label(wo.id)} is already ${to}: your status change changed nothing`] : [];
  if (Object.keys(changes).length === 0 && !statusChanges && !budget) return { prev: wo, next: wo, events: [], ...warned(already) };

  // Whoever changes the command is its author from now on. The pinned command stays: a holder's edit,
  // even a blank, counts as a change (VERIFICATION_CHANGED) until it claims again.
  if (changes.verification) patch.verification_by = (patch.verification ?? "").trim() ? agent : null;
  if (statusChanges && !holder) {
    if (to === "open") {
      const reason = budgetReached(patched);
      if (reason !== null) throw budgetExhausted(patched, reason, "reopened");
    }
    if (req.role !== "admin") withoutLease(wo, agent, to, `set ${label(wo.id)} to ${to}`);
  } else if (moved && !holder && req.role !== "admin" && !(wo.fence === 0 && wo.created_by === agent)) {
    // Handing work on is its holder's act (release or update with the stage): the last releaser claims it again first.
    throw new LedgerError(
      "NOT_HOLDER",
      `${agent} may not move ${label(wo.id)} to stage ${req.stage} without a lease: only its holder hands it on (before anyone claimed it, its creator places it; an admin moves it anywhere)`,
      {
        hint: "{{op:claim}} it, then hand it on with {{op:release}} {{stage=…}}",
        details: { project: wo.project, id: wo.id, stage: wo.stage, to: req.stage },
      },
    );
  }
  const done = statusChanges && to === "done" ? checkDone(wo, agent, req.finish, wo.stage) : { warnings: [], data: {} };
  let extra: Pick<Change, "note" | "warnings"> = budget?.extra ?? {};
  let attempt: Attempt | undefined;
  let outcome: AttemptOutcome | undefined;
  if (statusChanges) {
    let status: RestingStatus = to;
    let dead_letter: string | null = null;
    if (holder) {
      outcome = endedAs(to, moved);
      ({ status, dead_letter, extra } = afterAttempt(patched, to));
      attempt = attemptOf(wo, wo.lease as Lease, now, outcome);
    }
    Object.assign(patch, { status, dead_letter, lease: null, prior_status: null });
  } else if (budget) Object.assign(patch, { status: budget.to, dead_letter: budget.dead_letter });
  if (statusChanges && holder) {
    const ended: EndedLease = {
      agent,
      token: (wo.lease as Lease).token,
      at: now,
      how: "ended",
      status: patch.status as RestingStatus,
      via: req.via ?? "update",
      revision: wo.revision + 1,
      ...(outcome === "handed_on" ? { handed_on: true as const } : {}),
    };
    patch.ended_leases = withEnded(wo, ended);
  } else if (!holder && req.role !== "admin") {
    // The releaser's one follow-up: noted, so it may still link its handover after it (and change nothing more).
    const last = lastEnded(wo);
    if (last && ownRelease(wo, last, agent)) patch.ended_leases = wo.ended_leases.map((e) => (e === last ? { ...e, followed_revision: wo.revision + 1 } : e));
  }
  const next = bump(wo, now, patch);
  const events: NewEvent[] = [];
  if (Object.keys(changes).length > 0) events.push(event(next, "updated", agent, now, { changes }));
  if (statusChanges || budget) {
    const data = {
      from,
      to: next.status,
      ...(holder && statusChanges ? { lease_ended: true, token: wo.lease?.token, outcome } : {}),
      ...(next.dead_letter ? { dead_letter: next.dead_letter } : {}),
      ...(budget?.to === "open" ? { budget_raised: true } : {}),
      ...done.data,
    };
    events.push(event(next, "status_changed", agent, now, data));
  }
  // A holder that keeps working past a spend cap is told on each write (it cannot renew; it may finish).
  const capped = holder && !statusChanges ? spendCapReached(wo) : null;
  const told = capped === null ? [] : [capReached(wo, capped)];
  return { prev: wo, next, events, attempt, note: extra.note, ...warned([...done.warnings, ...(extra.warnings ?? []), ...told]) };
}

/**
 * Who may change the status of a WO nobody holds (DESIGN.md §9): the agent
 * whose own release ended its last attempt, once, while nobody else changed
 * it since (the seed's `release`, then `update --status done`), and its
 * creator (to block, cancel or reopen its own contract, never to call it
 * done). A cancelled WO is reopened by its creator only (thirteenth MCP
 * trial: a worker cancelled, reopened and cancelled again, and locked the
 * creator out), a done one by an admin. Admins are not asked. Anyone else
 * must claim it first.
 */
function withoutLease(wo: StoredWorkOrder, agent: string, to: RestingStatus, what: string): void {
  // A done WO is its record: reopening it (and finishing it again, unverified) is an admin's act (issue 23, eighth trials).
  if (wo.status === "done")
    // FORBIDDEN, not NOT_HOLDER: no claim makes it the caller's (seventeenth trials: "claim it first" was answered ILLEGAL_TRANSITION).
    throw new LedgerError("FORBIDDEN", `${label(wo.id)} is done: its record stands, and only an admin may reopen it`, {
      hint: "create a new work order for what is left (it may depend on this one), or {{op:addNote}} what you found",
      details: { project: wo.project, id: wo.id, status: wo.status, to },
    });
  if (wo.created_by === agent && to !== "done") return;
  if (wo.status === "cancelled")
    throw new LedgerError("FORBIDDEN", `${label(wo.id)} is cancelled: only its creator (${wo.created_by}) or an admin may reopen it`, {
      hint: "create a new work order if the work is still wanted, or {{op:addNote}} why it should be reopened",
      details: { project: wo.project, id: wo.id, status: wo.status, to, created_by: wo.created_by },
    });
  if (to === "cancelled")
    throw new LedgerError("FORBIDDEN", `only ${label(wo.id)}'s creator (${wo.created_by}) or an admin may cancel it`, {
      hint: "{{op:addNote}} why it should not be done: its creator decides",
      details: { project: wo.project, id: wo.id, status: wo.status, to, created_by: wo.created_by },
    });
  const last = lastEnded(wo);
  if (ownRelease(wo, last, agent)) return;
  throw new LedgerError(
    "NOT_HOLDER",
    `${agent} may not ${what} without a lease: ${lastHolderMay(wo, last)}${to !== "done" ? `, its creator (${wo.created_by})` : ""}, or an admin may`,
    {
      hint:
        to === "done"
          ? "{{op:claim}} it, do the work, {{op:verify}}, then {{op:release}} {{status=done}}"
          : "{{op:claim}} it first and change it while you hold it (or ask an admin)",
      details: { project: wo.project, id: wo.id, status: wo.status, to, last_attempt: last ?? null },
    },
  );
}

/**
 * Who may edit the fields of a WO nobody holds (issue 23, SKILL.md trial: any
 * agent rewrote others' contracts, done ones included): its creator, and the
 * agent whose own release ended its last attempt, while it is open or blocked.
 * A done or cancelled WO's fields are its record (admins only). Anyone else
 * claims it first, or adds a note.
 */
function mayEditUnheld(wo: StoredWorkOrder, agent: string, frozen: boolean): void {
  const last = lastEnded(wo);
  if (!frozen && (agent === wo.created_by || ownRelease(wo, last, agent))) return;
  throw new LedgerError(
    frozen ? "FORBIDDEN" : "NOT_HOLDER",
    frozen
      ? `${label(wo.id)} is ${wo.status}: its fields are its record, and only an admin may change them`
      : `${agent} may not edit ${label(wo.id)} without a lease: only its creator (${wo.created_by}), ${last && ownRelease(wo, last, last.agent) ? `its last holder (${last.agent}), ` : ""}or an admin may while nobody holds it`,
    {
      hint: frozen
        ? "create a new work order for what is left, or {{op:addNote}} to it"
        : "{{op:claim}} it first and edit it while you hold it, or {{op:addNote}} what you would change",
      details: { project: wo.project, id: wo.id, status: wo.status, created_by: wo.created_by, last_attempt: last ?? null },
    },
  );
}

/** Who, besides an admin, may act on a WO nobody holds because its own release ended the last attempt, in words. */
function lastHolderMay(wo: StoredWorkOrder, last: EndedLease | undefined): string {
  if (last && ownRelease(wo, last, last.agent)) return `only ${last.agent}, whose own release ended its last attempt`;
  if (wo.fence === 0) return "it was never claimed: whoever claims it";
  const why = last?.handed_on
    ? `${last.agent} handed it on to its stage's agents`
    : last?.how === "ended"
      ? `it was changed since ${last.agent}'s own release (now ${wo.status})`
      : last
        ? `${last.agent}'s lease lapsed`
        : "its last attempt is not this agent's";
  return `${why}, so only whoever claims it next`;
}

/**
 * A change of caps alone moves a WO nobody holds: raising the cap of a
 * dead-lettered WO returns it to the queue; lowering one below what an open
 * WO has used dead-letters it. A held WO is judged when its attempt ends.
 */
function rebudget(wo: StoredWorkOrder, patched: StoredWorkOrder, changes: FieldDiff): (Omit<ReturnType<typeof afterAttempt>, "status"> & { to: RestingStatus }) | null {
  if (!CAP_FIELDS.some((c) => c in changes)) return null;
  const reason = budgetReached(patched);
  if (wo.status === "blocked" && wo.dead_letter !== null) return reason === null ? { to: "open", dead_letter: null, extra: {} } : null;
  if (wo.status === "open" && reason !== null) {
    const { status, dead_letter, extra } = afterAttempt(patched, "open");
    return { to: status, dead_letter, extra };
  }
  return null;
}

type FieldDiff = Partial<Record<keyof WorkOrderFields | "stage", { from: unknown; to: unknown }>>;

function diff(wo: StoredWorkOrder, fields: WoPatch): FieldDiff {
  const out: FieldDiff = {};
  for (const [k, v] of Object.entries(fields) as [keyof WorkOrderFields, unknown][]) {
    if (v === undefined) continue;
    if (JSON.stringify(wo[k]) !== JSON.stringify(v)) out[k] = { from: wo[k], to: v };
  }
  return out;
}
