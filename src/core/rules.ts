/**
 * The work-order state machine and lease rules (DESIGN.md §4), as pure
 * functions of (stored record, caller, time). Stores make them atomic; they
 * never decide anything themselves.
 */
import { LedgerError } from "./errors.js";
import { formatDuration } from "./duration.js";
import { budgetExhausted, budgetReached, deadLetterNote, NO_SPEND, spendCapReached } from "./budget.js";
import { capabilityMissing } from "./stages.js";
import { CANCELLED_DEPENDENCY } from "./done.js";
import { decide, effect, type RuleEnv } from "./rule-data.js";
import { CLAIM, ENDED_LEASES_KEPT, KEEPALIVE_RENEW, RENEW } from "./write-rules.js";
import { branchName, DEFAULT_BRANCH_PREFIX } from "./branch.js";
import type { WoCreate } from "./schemas.js";
import { label } from "./types.js";
import type { Attempt, AttemptOutcome, EndedLease, Lease, NewEvent, NoteKind, RestingStatus, Role, Status, StoredWorkOrder, WorkOrder } from "./types.js";

export interface Change {
  /** The record the rule was applied to, as read in this transaction. */
  prev: StoredWorkOrder;
  next: StoredWorkOrder;
  events: NewEvent[];
  /** For the caller (printed on stderr by the CLI, `warnings` in JSON); the change went through. */
  warnings?: string[];
  /** The attempt the change opened or ended, saved with it. */
  attempt?: Attempt | undefined;
  /** A note the change leaves for whoever looks next (a dead-letter's reason). */
  note?: { kind: NoteKind; body: string } | undefined;
}

export { label };

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
  const { prior_status: _p, fence, pinned_verification: _v, ended_leases: _e, last_verification: _lv, ...pub } = wo;
  return { ...pub, attempts: fence };
}

/** Done and cancelled WOs are finished: nobody works on them again (unless an admin reopens one). */
export const isFinished = (status: Status) => status === "done" || status === "cancelled";

/** How an attempt ends when its holder leaves the WO in a status. */
export const OUTCOME: Record<RestingStatus, AttemptOutcome> = { done: "done", blocked: "blocked", open: "released", cancelled: "released" };

/** The attempt of `lease` on `wo`, ended at `at` (or open: at null). */
export function attemptOf(wo: StoredWorkOrder, lease: Lease, at: string | null, outcome: AttemptOutcome | null): Attempt {
  return { project: wo.project, wo: wo.id, token: lease.token, agent: lease.agent, started_at: lease.claimed_at, ended_at: at, outcome };
}

/**
 * Where a WO goes when an attempt ends and leaves it `to`: back to the queue,
 * unless a cap is reached; then blocked with the reason (dead-letter), and a
 * note and warning say so.
 */
export function afterAttempt(wo: StoredWorkOrder, to: RestingStatus): { status: RestingStatus; dead_letter: string | null; extra: Pick<Change, "note" | "warnings"> } {
  const reason = to === "open" ? budgetReached(wo) : null;
  if (reason === null) return { status: to, dead_letter: null, extra: {} };
  const body = deadLetterNote(wo, reason);
  return { status: "blocked", dead_letter: reason, extra: { note: { kind: "blocker", body }, warnings: [body] } };
}

export function event(wo: StoredWorkOrder, type: NewEvent["type"], agent: string, at: string, data: Record<string, unknown> = {}): NewEvent {
  return { project: wo.project, wo: wo.id, type, agent, revision: wo.revision, at, data };
}

export function bump(wo: StoredWorkOrder, at: string, patch: Partial<StoredWorkOrder>): StoredWorkOrder {
  return { ...wo, ...patch, revision: wo.revision + 1, updated_at: at };
}

const ENDED_STATUS: Record<AttemptOutcome, RestingStatus> = { done: "done", blocked: "blocked", released: "open", expired: "open", lost: "open", handed_on: "open" };

/**
 * `wo` as the rules must judge `agent`: with its newest attempt on the WO
 * (from the store's attempts, which keep every one) in place of whatever the
 * bounded `ended_leases` list remembers of it. An attempt that lapsed (or was
 * lost) fences the agent by name until it claims again.
 */
export function withAttempt(wo: StoredWorkOrder, agent: string, last: Attempt | undefined, now: string): StoredWorkOrder {
  if (last === undefined || last.agent !== agent) return wo;
  if (isLive(wo.lease, now) && wo.lease.token === last.token) return wo; // its current lease
  const listed = wo.ended_leases.find((e) => e.agent === agent);
  if (listed !== undefined && listed.token >= last.token) return wo;
  // Still open in the store, but not the live lease: it lapsed and its expiry is not recorded yet (a read).
  const lapsed = last.outcome === null || last.outcome === "expired" || last.outcome === "lost";
  const ended: EndedLease = {
    agent,
    token: last.token,
    at: last.ended_at ?? wo.lease?.expires_at ?? now,
    how: lapsed ? "expired" : "ended",
    status: last.outcome === null ? (wo.prior_status ?? "open") : ENDED_STATUS[last.outcome],
    ...(lapsed && wo.lease?.token === last.token && atCap(wo.lease) ? { max_hold: true as const } : {}),
    ...(last.outcome === "handed_on" ? { handed_on: true as const } : {}),
  };
  return { ...wo, ended_leases: [ended, ...wo.ended_leases.filter((e) => e.agent !== agent)] };
}

/**
 * Writes about a WO that need no lease (notes, linked context) are refused to
 * an agent whose own lease on it lapsed, until it claims again: its work may
 * have passed to another agent, and its words must not pass for theirs. A
 * `token` the caller's door remembers fences it too: another session of the
 * same agent may hold the WO now (issue 23, eighth trials).
 */
export function assertNotFenced(wo: StoredWorkOrder, agent: string, now: string, token?: number): void {
  if (!(isLive(wo.lease, now) && wo.lease.agent === agent)) {
    const mine = wo.ended_leases.find((e) => e.agent === agent);
    if (mine?.how === "expired") throw leaseLost(wo, agent, now, undefined, mine);
  }
  if (token !== undefined) holding(wo, agent, now, token, false);
}
/**
 * Context linked to a WO is its next agent's briefing (and its dependents'):
 * its holder writes it, or with nobody holding it the agent whose own release
 * ended its last attempt (the loop's last step), its creator before anyone
 * claimed it, or an admin. Anyone else adds a note, which is shown as theirs;
 * a lapsed holder does neither.
 */
export function assertMayLinkContext(wo: StoredWorkOrder, agent: string, role: Role | undefined, now: string, token?: number): void {
  assertNotFenced(wo, agent, now, token);
  if (isLive(wo.lease, now)) {
    if (wo.lease.agent === agent) return;
    throw new LedgerError("LEASE_HELD", `${label(wo.id)} is held by ${wo.lease.agent}: while it is held, only its holder links context to it`, {
      hint: "{{op:addNote}} for the holder instead, or save it without {{id}} as project-wide context",
      details: { project: wo.project, id: wo.id, holder: wo.lease.agent, expires_at: wo.lease.expires_at },
    });
  }
  if (role === "admin") return;
  const last = lastEnded(wo);
  // Its own release, a hand-off included (the loop's last step), while nobody else changed the WO since (its own follow-up allowed).
  const linkable = last?.how === "ended" && untouchedSince(wo, last, last.followed_revision ?? last.revision);
  if (last?.agent === agent && linkable) return;
  if (wo.fence === 0 && wo.created_by === agent) return;
  const who = linkable ? `its last holder (${last!.agent})` : wo.fence === 0 ? `its creator (${wo.created_by})` : isFinished(wo.status) ? "nobody" : "whoever claims it next";
  throw new LedgerError(
    "NOT_HOLDER",
    `${agent} may not link context to ${label(wo.id)}: ${
      last?.agent === agent && last.how === "ended" ? `it was changed since your release and your one follow-up (now ${wo.status}), so ` : ""
    }only ${who} or an admin may while nobody holds it (its next agents read it as the handover)`,
    {
      hint: "{{op:addNote}} instead (shown as yours), or save it without {{id}} as project-wide context",
      details: { project: wo.project, id: wo.id, last_attempt: last ?? null },
    },
  );
}
/**
 * Project-wide context from an agent whose lease lapsed and which has claimed
 * nothing since would pass for the state of work that moved on (issue 23,
 * both trials: "WO-11 is finished, no need to redo" became the next holder's
 * newest handover). `attempts` are the agent's recent ones, oldest first,
 * with expiries recorded. One still running that was claimed before the
 * lapse does not make it fresh (sixteenth trials: "everything on WO-7 is
 * finished" from an agent that still held WO-5): it links its context to
 * the work it holds instead.
 */
export function assertNotLapsedSince(attempts: readonly Attempt[], agent: string, project: string): void {
  const newest = attempts.at(-1);
  if (newest === undefined) return;
  const lapsed = attempts.filter((a) => (a.outcome === "expired" || a.outcome === "lost") && (a.ended_at ?? "") >= newest.started_at).at(-1);
  if (lapsed === undefined) return;
  const held = attempts.filter((a) => a.outcome === null).map((a) => a.wo);
  throw new LedgerError(
    "LEASE_LOST",
    `your lease on ${label(lapsed.wo)} lapsed (${lapsed.ended_at}) and you have claimed nothing in project ${project} since it did: context you save now would pass for the state of work that has moved on`,
    {
      hint: held.length
        ? `save it linked to the work order you hold ({{id=${held[0]}}}) if it is about that one; {{op:get}} ${label(lapsed.wo)} to see where it stands now`
        : `{{op:get}} ${label(lapsed.wo)} to see where it stands now, and claim work again before saving context`,
      details: { project, agent, lapsed: { id: lapsed.wo, token: lapsed.token, at: lapsed.ended_at } },
    },
  );
}
/**
 * Whether `last` (a WO's last attempt) was ended by `agent` itself, not handed
 * on to another stage, and nothing changed the WO since: that agent may
 * still finish or fix what it released, once. A change by anyone since (an
 * admin's reopen, the creator's edit: thirteenth and fifteenth trials), or
 * its own follow-up, ends that right.
 */
export const ownRelease = (wo: StoredWorkOrder, last: EndedLease | undefined, agent: string): boolean =>
  last?.agent === agent && last.how === "ended" && !last.handed_on && untouchedSince(wo, last, last.revision);
/** Nothing changed `wo` since revision `at` (records from before revisions were kept: since the ending's time). */
const untouchedSince = (wo: StoredWorkOrder, last: EndedLease, at: number | undefined) => (at === undefined ? wo.updated_at <= last.at : wo.revision === at);
/** How the WO's last attempt ended (undefined: never claimed, or that attempt is the live one). */
export const lastEnded = (wo: StoredWorkOrder): EndedLease | undefined => wo.ended_leases.find((e) => e.token === wo.fence);
/** The outcome of an attempt its holder ends leaving the WO `to`: handed on when it also moved the WO to another stage. */
export const endedAs = (to: RestingStatus, moved: boolean): AttemptOutcome => (moved && to === "open" ? "handed_on" : OUTCOME[to]);
export const withEnded = (wo: StoredWorkOrder, e: EndedLease): EndedLease[] => [e, ...wo.ended_leases.filter((x) => x.agent !== e.agent)].slice(0, ENDED_LEASES_KEPT);

/** The lease ran to its hold cap: renewals could not keep it past this time. */
const atCap = (lease: Lease): boolean => lease.hold_until !== null && Date.parse(lease.expires_at) >= Date.parse(lease.hold_until);

/** Records the lazy expiry of a lease whose time has passed, or null when there is none. */
export function expire(wo: StoredWorkOrder, now: string): Change | null {
  if (wo.lease === null || isLive(wo.lease, now)) return null;
  const { agent, token, expires_at } = wo.lease;
  const { status, dead_letter, extra } = afterAttempt(wo, wo.prior_status ?? "open");
  const capped = atCap(wo.lease) ? { max_hold: true as const } : {};
  const next = bump(wo, now, {
    status,
    dead_letter,
    lease: null,
    prior_status: null,
    ended_leases: withEnded(wo, { agent, token, at: expires_at, how: "expired", status, ...capped }),
  });
  const data = {
    holder: agent,
    token,
    expires_at,
    status: next.status,
    outcome: "expired",
    ...(capped.max_hold ? { reason: "max_hold" } : {}),
    ...(dead_letter ? { dead_letter } : {}),
  };
  return { prev: wo, next, events: [event(next, "expired", agent, now, data)], attempt: attemptOf(wo, wo.lease, expires_at, "expired"), note: extra.note };
}

/**
 * Someone holds the WO. The caller itself (a retried claim, or a new session
 * under the same name: tenth MCP trial) is told it is already its own, with
 * the lease, so its door remembers the token and keeps the lease alive from
 * then on (lease-memory.ts); someone else's answers "pick another" to a
 * claim, and to a change says where the change goes instead.
 */
function leaseHeld(wo: StoredWorkOrder, lease: Lease, now: string, caller: string, claiming = true): LedgerError {
  const left = formatDuration(Date.parse(lease.expires_at) - Date.parse(now));
  if (lease.agent === caller)
    return new LedgerError("LEASE_HELD", `${label(wo.id)} is already yours: you hold its lease (token ${lease.token}) until ${lease.expires_at} (expires in ${left})`, {
      hint: "carry on working on it: its token is remembered for your writes, and a keep-alive (an MCP session, or the keepalive command) renews it from now on; without one, {{op:renew}} it before it expires",
      details: { project: wo.project, id: wo.id, holder: lease.agent, expires_at: lease.expires_at, yours: true, lease },
    });
  return new LedgerError("LEASE_HELD", `${label(wo.id)} is claimed by ${lease.agent} until ${lease.expires_at} (expires in ${left})`, {
    hint: claiming
      ? "pick another work order ({{op:findUnclaimed}})"
      : `it is ${lease.agent}'s until released: {{op:addNote}} what should change for its holder, or pick another work order ({{op:findUnclaimed}})`,
    details: { project: wo.project, id: wo.id, holder: lease.agent, expires_at: lease.expires_at },
  });
}

const VIA: Record<NonNullable<EndedLease["via"]>, string> = { release: "release", update: "a status change", verify: "verify (block_on_fail)" };

/**
 * The caller's lease is not current: says what ended it (expired at T, taken
 * by B with token N, ended by the caller itself) and what to do, which
 * differs: after its own release there is nothing to stop.
 */
function leaseLost(wo: StoredWorkOrder, agent: string, now: string, token: number | undefined, mine: EndedLease | undefined): LedgerError {
  const live = isLive(wo.lease, now) ? wo.lease : null;
  let why: string;
  if (mine?.idle)
    why = `your lease (token ${mine.token}) ended at ${mine.at}: you were idle for longer than the project's idle limit (nothing done through the ledger while a keep-alive held it)`;
  else if (mine?.max_hold) why = `your lease (token ${mine.token}) ended at ${mine.at}: it reached its hold cap (max_hold), which renewals cannot pass`;
  else if (mine?.how === "expired") why = `your lease (token ${mine.token}) expired at ${mine.at}`;
  else if (mine) why = `you ended your lease (token ${mine.token}) at ${mine.at} by ${VIA[mine.via ?? "release"]}${live ? "" : `; it is ${wo.status} now`}`;
  else if (token !== undefined) why = `token ${token} is not a current lease`;
  else why = wo.fence > 0 ? `${agent} holds no lease on it` : "it was never claimed";
  if (live) why += `; ${live.agent} holds it now (token ${live.token}, claimed at ${live.claimed_at})`;
  else if (mine?.how !== "ended") why += `; it is ${wo.status} now`;
  const own = mine?.how === "ended" && !live;
  return new LedgerError("LEASE_LOST", `your lease on ${label(wo.id)} is gone: ${why}`, {
    hint: isFinished(wo.status)
      ? `stop working on it: it is ${wo.status}, and nobody works on it any more; pick other work ({{op:findUnclaimed}})${
          mine?.how === "expired"
            ? "; your lease on it lapsed, so notes and context from you about it are refused for good: what you found goes in a new work order ({{op:create}})"
            : ""
        }`
      : own
        ? "nothing to do for the lease: it already ended; {{op:claim}} it again only if there is more work to do"
        : "stop working on it; {{op:claim}} it again if it is free (someone may have changed it meanwhile), else pick another ({{op:findUnclaimed}})",
    // `lapsed`: the caller's own lease lapsed under it, so the ledger records the refusal (webhooks' needs-human preset).
    details: { project: wo.project, id: wo.id, agent, holder: live?.agent ?? null, status: wo.status, ended: mine ?? null, ...(mine?.how === "expired" ? { lapsed: true } : {}) },
  });
}

/**
 * Who the caller is relative to the lease (`wo` must be the effective view,
 * with the caller's last attempt: ledger.ts asCaller). A holder-only action
 * by someone else fails with LEASE_HELD; one with a stale token, or by an
 * agent whose own lease lapsed and who has not claimed again (fenced by name,
 * token or not), with LEASE_LOST; one by an agent that never held it, on a WO
 * nobody holds, with NOT_HOLDER.
 */
export function holding(wo: StoredWorkOrder, agent: string, now: string, token: number | undefined, mustHold: boolean): boolean {
  const lease = wo.lease;
  const mine = wo.ended_leases.find((e) => e.agent === agent);
  if (isLive(lease, now)) {
    if (lease.agent === agent) {
      if (token !== undefined && token !== lease.token) throw notYourToken(wo, lease, token);
      return true;
    }
    // A stale token, or a lapsed lease, means the caller's own lease ended: stop, do not "pick another".
    if ((token !== undefined && token !== lease.token) || mine?.how === "expired") throw leaseLost(wo, agent, now, token, mine);
    throw leaseHeld(wo, lease, now, agent, false);
  }
  if (mustHold && token === undefined && mine === undefined) throw notHolder(wo, agent);
  if (mustHold || token !== undefined || mine?.how === "expired") throw leaseLost(wo, agent, now, token, mine);
  return false;
}

function notHolder(wo: StoredWorkOrder, agent: string): LedgerError {
  return new LedgerError("NOT_HOLDER", `${agent} holds no lease on ${label(wo.id)} (nobody does): only its holder may do this`, {
    // A finished one cannot be claimed (eleventh trials: "claim it first" led into ILLEGAL_TRANSITION).
    hint: isFinished(wo.status)
      ? `it is ${wo.status}: nobody works on it any more; pick other work ({{op:findUnclaimed}})`
      : wo.depends_on.length
        ? `{{op:claim}} it first (a claim says whether it must still wait for ${wo.depends_on.map(label).join(", ")})`
        : "{{op:claim}} it first",
    details: { project: wo.project, id: wo.id, status: wo.status },
  });
}

/** The caller holds the lease, but under another token: another process of the same agent claimed it again. */
function notYourToken(wo: StoredWorkOrder, lease: Lease, token: number): LedgerError {
  return new LedgerError(
    "LEASE_LOST",
    `token ${token} is not the lease on ${label(wo.id)}: ${lease.agent} holds it under token ${lease.token}, claimed at ${lease.claimed_at} by another claim`,
    {
      hint: "your claim's lease is gone; if another process of yours claimed it again, leave the work to that one",
      details: { project: wo.project, id: wo.id, holder: lease.agent, token: lease.token, given: token },
    },
  );
}

/** A new work order: the defaults of every field not given, open, at revision 1, and its `created` event. */
export function create(
  project: string,
  id: number,
  fields: WoCreate,
  agent: string,
  now: string,
  stage: string | null = null,
  branchPrefix = DEFAULT_BRANCH_PREFIX,
): { wo: StoredWorkOrder; event: NewEvent } {
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
    depends_on: [...new Set(fields.depends_on ?? [])], // one named twice (53, WO-53) is one
    requires: fields.requires ?? [],
    stage,
    branch: branchName(branchPrefix, id, fields.title),
    max_usd: fields.max_usd ?? null,
    max_tokens: fields.max_tokens ?? null,
    max_attempts: fields.max_attempts ?? null,
    status: "open",
    lease: null,
    revision: 1,
    created_by: agent,
    created_at: now,
    updated_at: now,
    verification_by: fields.verification?.trim() ? agent : null,
    prior_status: null,
    fence: 0,
    pinned_verification: null,
    ended_leases: [],
    last_verification: null,
    spend: NO_SPEND,
    dead_letter: null,
  };
  const {
    project: _p,
    id: _i,
    status: _s,
    lease: _l,
    revision: _r,
    created_by: _c,
    created_at: _ca,
    updated_at: _u,
    attempts: _a,
    spend: _sp,
    dead_letter: _d,
    verification_by: _vb,
    ...initial
  } = toPublic(wo);
  return { wo, event: event(wo, "created", agent, now, { fields: initial }) };
}

/** How long a claim may hold its lease: what it asked for, the project's default, and whether an admin asks (write-rules.ts holdCap). */
export interface HoldAsk {
  asked?: number | undefined;
  projectDefault?: number | null | undefined;
  role?: Role | undefined;
}

/** The claim rule's arguments (what the PostgreSQL adapter sends as parameters). */
export const claimArgs = (agent: string, ttlMs: number, hold: HoldAsk, can: readonly string[] | undefined): RuleEnv["args"] => ({
  agent,
  ttl_ms: ttlMs,
  max_hold_ms: hold.asked ?? null,
  admin: hold.role === "admin",
  can: can ?? null,
});

/** The environment the claim rule is judged in by the core. */
function claimEnv(agent: string, now: string, ttlMs: number, depsPending: boolean, hold: HoldAsk, can: readonly string[] | undefined): RuleEnv {
  return {
    args: claimArgs(agent, ttlMs, hold, can),
    now,
    policy: { max_hold_ms: hold.projectDefault ?? null, done_stage: null, require_verification: false },
    depsPending,
    lastCheckpointAt: null,
  };
}

/**
 * A claim by `agent`, which declared capabilities `can` (undefined: it says
 * it can do the WO whatever it requires), as write-rules.ts CLAIM states it;
 * here only the refusals' words are added.
 */
export function claim(wo: StoredWorkOrder, agent: string, now: string, ttlMs: number, pendingDeps: number[], hold: HoldAsk = {}, can?: readonly string[]): Change {
  const env = claimEnv(agent, now, ttlMs, pendingDeps.length > 0, hold, can);
  const verdict = decide(CLAIM, wo, env, false);
  if (verdict.kind === "refuse") throw claimRefused(verdict.code, wo, agent, now, pendingDeps, can);
  const { next, data } = effect(CLAIM, wo, env);
  return { prev: wo, next, events: [event(next, "claimed", agent, now, data)], attempt: attemptOf(wo, next.lease!, null, null) };
}

function claimRefused(code: string, wo: StoredWorkOrder, agent: string, now: string, pendingDeps: number[], can: readonly string[] | undefined): LedgerError {
  switch (code) {
    case "LEASE_HELD":
      return leaseHeld(wo, wo.lease!, now, agent);
    case "ILLEGAL_TRANSITION":
      return new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} is ${wo.status} and cannot be claimed`, {
        hint:
          wo.status === "done"
            ? "pick another work order ({{op:findUnclaimed}}); a done one is its record, and only an admin reopens it"
            : "pick another work order ({{op:findUnclaimed}}); its creator or an admin can reopen it",
        details: { project: wo.project, id: wo.id, status: wo.status },
      });
    case "DEPENDENCY_PENDING":
      return new LedgerError("DEPENDENCY_PENDING", `${label(wo.id)} depends on ${pendingDeps.map(label).join(", ")}, not done yet`, {
        hint: `pick another work order ({{op:findUnclaimed}} lists only those whose dependencies are done); ${CANCELLED_DEPENDENCY}`,
        details: { project: wo.project, id: wo.id, pending: pendingDeps },
      });
    case "CAPABILITY_MISSING":
      return capabilityMissing(wo, can ?? []);
    default:
      return budgetExhausted(wo, budgetReached(wo) ?? "its caps", "claimed");
  }
}

const after = (now: string, ms: number) => new Date(Date.parse(now) + ms).toISOString();

/** How long a lease runs from each claim or renewal: what a renewal without a TTL keeps. */
export const leaseLength = (lease: Lease) => Date.parse(lease.expires_at) - Date.parse(lease.renewed_at ?? lease.claimed_at);

/** A renewal's arguments, as the rule (write-rules.ts RENEW) takes them. */
export const renewArgs = (agent: string, ttlMs: number | undefined, token: number | undefined, idleMs?: number) => ({
  agent,
  token: token ?? null,
  ttl_ms: ttlMs ?? null,
  idle_ms: idleMs ?? null,
});

/**
 * Extends the caller's live lease by `ttlMs` from now (default: the lease's
 * own length), up to its hold cap, as write-rules.ts RENEW states it (a
 * keep-alive's renewal, KEEPALIVE_RENEW, appends no event); here the
 * refusals' words and the warning of a renewal the hold cap cuts short.
 */
export function renew(wo: StoredWorkOrder, agent: string, now: string, ttlMs: number | undefined, token?: number, keepalive = false): Change {
  holding(wo, agent, now, token, true);
  const lease = wo.lease as Lease;
  const rule = keepalive ? KEEPALIVE_RENEW : RENEW;
  const env: RuleEnv = {
    args: renewArgs(agent, ttlMs, token),
    now,
    policy: { max_hold_ms: null, done_stage: null, require_verification: false },
    depsPending: false,
    lastCheckpointAt: null,
  };
  const verdict = decide(rule, wo, env, false);
  if (verdict.kind === "refuse" && verdict.code === "BUDGET_EXHAUSTED") throw budgetExhausted(wo, spendCapReached(wo) ?? "its caps", "renewed");
  if (verdict.kind === "refuse") {
    throw new LedgerError("MAX_HOLD_REACHED", `${label(wo.id)} has been held for as long as one lease may be (until ${lease.hold_until}); it cannot be renewed`, {
      hint: "finish now and {{op:release}} it with a status, or release it with a note saying what is left",
      details: { project: wo.project, id: wo.id, hold_until: lease.hold_until, expires_at: lease.expires_at },
    });
  }
  const { next, data } = effect(rule, wo, env);
  if (keepalive) return { prev: wo, next, events: [] };
  // Cut short by the hold's end: said now, not at the next renewal's refusal (seventeenth trials).
  const cut =
    next.lease!.expires_at !== after(now, data.ttl_ms as number)
      ? [`${label(wo.id)} is held until ${lease.hold_until} at most (max_hold): this renewal ends then; finish or release it before`]
      : [];
  return { prev: wo, next, events: [event(next, "renewed", agent, now, data)], ...(cut.length ? { warnings: cut } : {}) };
}

/**
 * A keep-alive found its agent idle past the project's limit (issue 25: a
 * hung agent that is still connected must not hold its WO for ever): the
 * lease ends now as if it had lapsed (the agent is fenced until it claims
 * again), and the `expired` event says why.
 */
export function endIdle(wo: StoredWorkOrder, agent: string, now: string, token: number | undefined, idleMs: number, limitMs: number): Change {
  holding(wo, agent, now, token, true);
  const change = expire({ ...wo, lease: { ...(wo.lease as Lease), expires_at: now } }, now) as Change;
  const [ended] = change.events;
  const [mine, ...others] = change.next.ended_leases;
  const next = { ...change.next, ended_leases: [{ ...mine!, idle: true as const }, ...others] };
  return { ...change, prev: wo, next, events: [{ ...ended!, data: { ...ended!.data, reason: "idle", idle_ms: idleMs, idle_limit_ms: limitMs } }] };
}

export { release, update, assertMayDropDependencies, type UpdateRequest } from "./status-rules.js";
export { commandForDone, verificationRecord, type Finish } from "./done.js";
