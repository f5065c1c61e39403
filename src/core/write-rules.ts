/**
 * The hot writes' rules as data (rule-data.ts): what rules.ts applies in the
 * core, and what the PostgreSQL adapter compiles into one statement each.
 */
import { and, arg, cmp, f, given, isNull, lit, minus, not, NOW, oneOf, or, plus, when, type Expr, type WriteRule } from "./rule-data.js";

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

/** budget.ts budgetReached: the attempts cap, or a spend cap (spend from outside the attempt not counted). */
export const BUDGET_REACHED: Expr = or(
  and(given(f("max_attempts")), cmp("ge", f("fence"), f("max_attempts"))),
  and(given(f("max_usd")), cmp("ge", minus(micros({ op: "spent", key: "usd" }), micros({ op: "spent", key: "outside_usd" })), micros(f("max_usd")))),
  and(
    given(f("max_tokens")),
    cmp("ge", minus(plus({ op: "spent", key: "tokens_in" }, { op: "spent", key: "tokens_out" }), { op: "spent", key: "outside_tokens" }), f("max_tokens")),
  ),
);

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
  opensAttempt: true,
};
