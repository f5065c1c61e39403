/**
 * The hot writes' rules as data (rule-data.ts): what rules.ts applies in the
 * core, and what the PostgreSQL adapter compiles into one statement each.
 */
import { and, arg, cmp, f, given, isNull, lit, minus, not, NOW, oneOf, or, plus, when, type Expr, type WriteRule } from "./rule-data.js";

/**
 * An agent's ended lease replaces its older one; the list stays short (one
 * entry per recent holder). It explains a refusal; whether a caller is fenced
 * is judged from its stored attempts (rules.ts withAttempt), so it never forgets.
 */
export const ENDED_LEASES_KEPT = 8;

/** The hold cap a claim gets (rules.holdCapFor): the project's default, which only an admin may raise or lift; anyone may ask for less. */
const holdCap: Expr = when(
  isNull(arg("max_hold_ms")),
  { policy: "max_hold_ms" },
  when(or(arg("admin"), isNull({ policy: "max_hold_ms" })), arg("max_hold_ms"), { op: "least", args: [arg("max_hold_ms"), { policy: "max_hold_ms" }] }),
);
const holdUntil: Expr = when(isNull(holdCap), lit(null), { op: "addMs", args: [NOW, holdCap] });
const expiresAt: Expr = { op: "earliest", args: [{ op: "addMs", args: [NOW, arg("ttl_ms")] }, holdUntil] };
const token = plus(f("fence"), lit(1));
const micros = (e: Expr): Expr => ({ op: "micros", args: [e] });

/** budget.ts spendCapReached: a spend cap reached (spend from outside the attempt not counted). */
const SPEND_REACHED: Expr = or(
  and(given(f("max_usd")), cmp("ge", minus(micros({ op: "spent", key: "usd" }), micros({ op: "spent", key: "outside_usd" })), micros(f("max_usd")))),
  and(
    given(f("max_tokens")),
    cmp("ge", minus(plus({ op: "spent", key: "tokens_in" }, { op: "spent", key: "tokens_out" }), { op: "spent", key: "outside_tokens" }), f("max_tokens")),
  ),
);
/** budget.ts budgetReached: the attempts cap, or a spend cap. */
export const BUDGET_REACHED: Expr = or(and(given(f("max_attempts")), cmp("ge", f("fence"), f("max_attempts"))), SPEND_REACHED);

/** A live lease: one whose expiry is after now. */
const leaseLive = and(given(f("lease_expires_at")), cmp("gt", f("lease_expires_at"), NOW));

/**
 * A claim by `agent` (rules.claim): refused while someone holds it, when it
 * is finished, waits on dependencies, needs capabilities the caller did not
 * declare (`can`; null: it says it can), or its budget is used up; else the
 * lease with the next fencing token, until now + ttl or the hold cap.
 */
export const CLAIM: WriteRule = {
  name: "claim",
  args: { agent: "text", ttl_ms: "float8", max_hold_ms: "float8", admin: "boolean", can: "text[]" },
  defer: [
    { why: "a lapsed lease's expiry is recorded first", when: and(given(f("lease_expires_at")), not(leaseLive)) },
    { why: "its files are checked against other leases", when: not({ op: "isEmpty", args: [f("files")] }) },
  ],
  refuse: [
    { code: "LEASE_HELD", when: leaseLive },
    { code: "ILLEGAL_TRANSITION", when: oneOf(f("status"), ["done", "cancelled"]) },
    { code: "DEPENDENCY_PENDING", when: { depsPending: true } },
    { code: "CAPABILITY_MISSING", when: and(given(arg("can")), not({ op: "subsetOf", args: [f("requires"), arg("can")] })) },
    { code: "BUDGET_EXHAUSTED", when: BUDGET_REACHED },
  ],
  set: {
    status: lit("claimed"),
    prior_status: f("status"),
    lease_agent: arg("agent"),
    lease_token: token,
    lease_claimed_at: NOW,
    lease_expires_at: expiresAt,
    lease_renewed_at: lit(null),
    lease_hold_until: holdUntil,
    fence: token,
    pinned_verification: f("verification"),
    ended_leases: { op: "withoutAgent", args: [f("ended_leases"), arg("agent")] },
    revision: plus(f("revision"), lit(1)),
    updated_at: NOW,
  },
  event: { type: "claimed", data: { token, expires_at: expiresAt, ttl_ms: arg("ttl_ms"), hold_until: holdUntil }, omitNull: ["hold_until"] },
  needsBefore: lit(false),
  attempt: "opens",
};

const lv = (key: "passed" | "token" | "command" | "failed_in" | "at" | "dirty" | "head" | "branch" | "on_its_branch"): Expr => ({ op: "verification", key });
/** Whether `e` is true (false for null): a condition that may be null, negated or combined without SQL's nulls. */
const holds = (e: Expr): Expr => ({ op: "holds", args: [e] });
const ne = (a: Expr, b: Expr): Expr => not(cmp("eq", a, b));

/** The caller holds the live lease, under the token it gave (if it gave one). */
const HOLDER = and(leaseLive, cmp("eq", f("lease_agent"), arg("agent")), or(isNull(arg("token")), cmp("eq", arg("token"), f("lease_token"))));
/** rules.ts commandForDone, for a holder: the command pinned at the claim. */
const command: Expr = when(isNull(f("pinned_verification")), f("verification"), f("pinned_verification"));
const none: Expr = { op: "blank", args: [command] };
/** rules.ts checkDone: a pass of the command as it is, under this lease, that no failure elsewhere still waits on. */
const VERIFIED = holds(
  and(
    not(none),
    not(and(given(f("pinned_verification")), ne(f("pinned_verification"), f("verification")))),
    or(isNull(lv("command")), cmp("eq", lv("command"), command)),
    cmp("eq", lv("passed"), lit(true)),
    isNull(lv("failed_in")),
    cmp("eq", lv("token"), f("lease_token")),
  ),
);
/** The newest verification failed (or a failure elsewhere is unanswered): done waits for a pass. */
const FAILED = holds(and(not(none), given(f("last_verification")), or(cmp("eq", lv("passed"), lit(false)), given(lv("failed_in")))));

/**
 * The holder finishes (status done, nothing else in the same step), by
 * `release` or by `update`: rules.ts release/update with checkDone, for the
 * case they share. Whoever is not the live holder, and projects with a done
 * stage, are the full sequence's (its refusals need the caller's history).
 */
function finish(via: "release" | "update"): WriteRule {
  const token = f("lease_token");
  const done = lit("done");
  const unverified = when(VERIFIED, lit(null), lit(true));
  return {
    name: `finish by ${via}`,
    args: { agent: "text", token: "integer", here_head: "text" },
    defer: [
      { why: "only the live holder finishes this way", when: not(HOLDER) },
      { why: "the project finishes work only from its done stage", when: given({ policy: "done_stage" }) },
      // done.ts: a pass from before the newest checkpoint verified other work (the full sequence words the warning).
      { why: "checkpointed after its last verification", when: holds(and(given({ lastCheckpointAt: true }), cmp("gt", { lastCheckpointAt: true }, lv("at")))) },
      // done.ts: a pass on uncommitted changes finishes with a warning (the full sequence words it).
      { why: "its last verification ran on uncommitted changes", when: holds(cmp("eq", lv("dirty"), lit(true))) },
      // done.ts: with checkpoints on the WO's branch, a pass counts only on that branch (the full sequence compares the branches).
      { why: "its work is checkpointed: the full sequence judges where its pass ran", when: holds(and(given({ lastCheckpointAt: true }), given(f("last_verification")))) },
      // done.ts: this lease verified on the WO's branch before, so a pass elsewhere did not check its work (the full sequence words it).
      { why: "its lease verified on its branch: the full sequence judges where its pass ran", when: holds(cmp("eq", lv("on_its_branch"), lit(true))) },
      // done.ts: where the project requires verification, a pass counts only on the WO's branch (the full sequence compares the branches).
      {
        why: "the project requires verification on its branch: the full sequence judges where its pass ran",
        when: holds(and({ policy: "require_verification" }, given(f("last_verification")))),
      },
      // done.ts: the caller (or the WO's branch, where the door names it) is at another commit than the one that passed (the full sequence judges it).
      { why: "the caller's HEAD is not the commit that passed", when: holds(and(given(arg("here_head")), ne(arg("here_head"), lv("head")))) },
    ],
    refuse: [
      { code: "DEPENDENCY_PENDING", when: { depsPending: true } },
      { code: "VERIFICATION_REQUIRED", when: FAILED },
      { code: "VERIFICATION_REQUIRED", when: and({ policy: "require_verification" }, not(VERIFIED)) },
    ],
    set: {
      status: done,
      dead_letter: lit(null),
      prior_status: lit(null),
      lease_agent: lit(null),
      lease_token: lit(null),
      lease_claimed_at: lit(null),
      lease_expires_at: lit(null),
      lease_renewed_at: lit(null),
      lease_hold_until: lit(null),
      ended_leases: {
        op: "prepend",
        args: [
          f("ended_leases"),
          { op: "object", fields: { agent: arg("agent"), token, at: NOW, how: lit("ended"), status: done, via: lit(via), revision: plus(f("revision"), lit(1)) } },
          arg("agent"),
        ],
        keep: ENDED_LEASES_KEPT,
      },
      revision: plus(f("revision"), lit(1)),
      updated_at: NOW,
    },
    event:
      via === "release"
        ? { type: "released", data: { token, status: done, outcome: done, unverified }, omitNull: ["unverified"] }
        : { type: "status_changed", data: { from: f("status"), to: done, lease_ended: lit(true), token, outcome: done, unverified }, omitNull: ["unverified"] },
    // Finished unverified, the caller is told why (rules.ts doneWarning), from the state before.
    needsBefore: not(VERIFIED),
    attempt: { ends: "done" },
  };
}
export const FINISH_BY_RELEASE = finish("release");
export const FINISH_BY_UPDATE = finish("update");

/** How long a renewal extends the lease: the TTL asked for, else the lease's own length (rules.leaseLength), at least a second. */
export const RENEW_TTL: Expr = when(
  isNull(arg("ttl_ms")),
  { op: "greatest", args: [{ op: "msBetween", args: [f("lease_expires_at"), when(isNull(f("lease_renewed_at")), f("lease_claimed_at"), f("lease_renewed_at"))] }, lit(1000)] },
  arg("ttl_ms"),
);

/**
 * The holder renews its lease (rules.renew): by now + the TTL, up to its
 * hold cap; refused when a spend cap is reached or the hold cap already
 * was. A keep-alive's renewal is no revision and appends no event. Whoever is
 * not the live holder, a renewal the hold cap cuts short (the caller is
 * warned) and a keep-alive whose agent is idle past the project's limit are
 * the full sequence's.
 */
function renewal(keepalive: boolean): WriteRule {
  const expires: Expr = { op: "earliest", args: [{ op: "addMs", args: [NOW, RENEW_TTL] }, f("lease_hold_until")] };
  return {
    name: keepalive ? "keep-alive renewal" : "renewal",
    args: { agent: "text", token: "integer", ttl_ms: "float8", idle_ms: "float8" },
    defer: [
      { why: "only the live holder renews this way", when: not(HOLDER) },
      {
        why: "its keep-alive says it is idle past the project's limit",
        when: holds(and(given(arg("idle_ms")), given({ policy: "idle_limit_ms" }), cmp("gt", arg("idle_ms"), { policy: "idle_limit_ms" }))),
      },
      { why: "its hold cap cuts the renewal short (the full sequence warns)", when: holds(cmp("lt", f("lease_hold_until"), { op: "addMs", args: [NOW, RENEW_TTL] })) },
    ],
    refuse: [
      { code: "BUDGET_EXHAUSTED", when: SPEND_REACHED },
      { code: "MAX_HOLD_REACHED", when: holds(cmp("ge", f("lease_expires_at"), f("lease_hold_until"))) },
    ],
    set: {
      lease_expires_at: expires,
      lease_renewed_at: NOW,
      ...(keepalive ? {} : { revision: plus(f("revision"), lit(1)), updated_at: NOW }),
    },
    event: keepalive ? null : { type: "renewed", data: { token: f("lease_token"), expires_at: expires, ttl_ms: RENEW_TTL }, omitNull: [] },
    needsBefore: lit(false),
    attempt: null,
  };
}
export const RENEW = renewal(false);
export const KEEPALIVE_RENEW = renewal(true);
