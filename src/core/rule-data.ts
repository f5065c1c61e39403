/**
 * Rules as data (issue 27): a write's precondition and effect stated once, as
 * expressions over the work order, so that the core can interpret them (here:
 * SQLite, tests) and a store can compile them into one conditional statement
 * (the PostgreSQL adapter: storage/postgres/sql/compile.ts). A property test
 * runs random states through both and requires the same outcome.
 *
 * Expressions follow SQL's three-valued logic: a comparison with null is
 * null, and a condition that is null does not hold. That is what makes one
 * meaning for both interpreters.
 */
import type { Lease, StoredWorkOrder } from "./types.js";

/** The WO's fields a rule reads or writes, as the flat row both stores keep (the lease one column per field). */
export const RULE_FIELDS = [
  "project",
  "id",
  "status",
  "prior_status",
  "lease_agent",
  "lease_token",
  "lease_claimed_at",
  "lease_expires_at",
  "lease_renewed_at",
  "lease_hold_until",
  "fence",
  "revision",
  "updated_at",
  "verification",
  "pinned_verification",
  "ended_leases",
  "requires",
  "files",
  "max_attempts",
  "max_usd",
  "max_tokens",
  "spend",
  "last_verification",
  "dead_letter",
] as const;
export type Field = (typeof RULE_FIELDS)[number];

/** What an expression may stand for (timestamps are ISO-8601 strings, as everywhere in the core). */
export type Value = string | number | boolean | null | readonly string[] | readonly object[] | object;
/** The SQL type a parameter is sent as. */
export type ArgType = "text" | "float8" | "integer" | "boolean" | "text[]";

type Cmp = "eq" | "lt" | "le" | "gt" | "ge";
export type Expr =
  | { f: Field }
  | { arg: string }
  | { now: true }
  | { lit: string | number | boolean | null }
  /** A setting of the WO's project (ProjectPolicy). */
  | { policy: PolicyKey }
  /** Whether a WO it depends on is not done. */
  | { depsPending: true }
  /** When the WO's newest checkpoint was recorded (null: none). */
  | { lastCheckpointAt: true }
  | { op: Cmp | "and" | "or"; args: Expr[] }
  | { op: "not" | "isNull"; args: [Expr] }
  /** True when its argument is (false for null): two-valued, so it may be negated safely. */
  | { op: "holds"; args: [Expr] }
  | { op: "in"; args: [Expr]; values: readonly string[] }
  /** Integer sum. */
  | { op: "plus"; args: [Expr, Expr] }
  | { op: "least"; args: [Expr, Expr] }
  | { op: "greatest"; args: [Expr, Expr] }
  /** Milliseconds from the second timestamp to the first (null when either is). */
  | { op: "msBetween"; args: [Expr, Expr] }
  /** A timestamp plus milliseconds (null when either is). */
  | { op: "addMs"; args: [Expr, Expr] }
  /** The earlier of two timestamps, ignoring a null one (SQL's LEAST). */
  | { op: "earliest"; args: [Expr, Expr] }
  | { op: "if"; args: [Expr, Expr, Expr] }
  /** Every element of the first list is in the second. */
  | { op: "subsetOf"; args: [Expr, Expr] }
  | { op: "isEmpty"; args: [Expr] }
  /** A number in the spend totals (0 when absent). */
  | { op: "spent"; key: "usd" | "outside_usd" | "tokens_in" | "tokens_out" | "outside_tokens" }
  /** Dollars as whole micro-dollars (pricing.ts toMicros). */
  | { op: "micros"; args: [Expr] }
  | { op: "minus"; args: [Expr, Expr] }
  /** The ended-leases list without the entries of an agent. */
  | { op: "withoutAgent"; args: [Expr, Expr] }
  /** The ended-leases list with an entry first, the agent's older one dropped, `keep` entries at most. */
  | { op: "prepend"; args: [list: Expr, entry: Expr, agent: Expr]; keep: number }
  | { op: "object"; fields: Record<string, Expr> }
  /** A field of the WO's last verification record (null: none, or absent). */
  | { op: "verification"; key: "passed" | "token" | "command" | "failed_in" | "at" | "dirty" | "head" | "branch" | "on_its_branch" }
  /** Only whitespace (String.prototype.trim's). */
  | { op: "blank"; args: [Expr] };

export type PolicyKey = "max_hold_ms" | "done_stage" | "require_verification" | "idle_limit_ms";

export const f = (name: Field): Expr => ({ f: name });
export const arg = (name: string): Expr => ({ arg: name });
export const lit = (v: string | number | boolean | null): Expr => ({ lit: v });
export const NOW: Expr = { now: true };
export const not = (e: Expr): Expr => ({ op: "not", args: [e] });
export const isNull = (e: Expr): Expr => ({ op: "isNull", args: [e] });
export const given = (e: Expr): Expr => not(isNull(e));
export const and = (...args: Expr[]): Expr => ({ op: "and", args });
export const or = (...args: Expr[]): Expr => ({ op: "or", args });
export const cmp = (op: Cmp, a: Expr, b: Expr): Expr => ({ op, args: [a, b] });
export const oneOf = (e: Expr, values: readonly string[]): Expr => ({ op: "in", args: [e], values });
export const plus = (a: Expr, b: Expr): Expr => ({ op: "plus", args: [a, b] });
export const minus = (a: Expr, b: Expr): Expr => ({ op: "minus", args: [a, b] });
export const when = (c: Expr, then: Expr, otherwise: Expr): Expr => ({ op: "if", args: [c, then, otherwise] });

/**
 * A write as data. `defer`: states this statement leaves to the core's full
 * sequence (an expiry to record first, files to check against other leases);
 * `refuse`: the error codes in the order the core checks them; `set`: the
 * fields' new values (all computed from the state before); `event`: the
 * event's type and data, `omitNull` fields left out when null; `attempt`: the
 * attempt it opens.
 */
export interface WriteRule {
  name: string;
  args: Record<string, ArgType>;
  defer: readonly { why: string; when: Expr }[];
  refuse: readonly { code: string; when: Expr }[];
  set: Partial<Record<Field, Expr>>;
  /** null: it appends none (a keep-alive's renewal). */
  event: { type: "claimed" | "status_changed" | "released" | "renewed"; data: Record<string, Expr>; omitNull: readonly string[] } | null;
  /** When the core needs the state before even though the rule applied (to word a warning); refused or deferred, it always gets it. */
  needsBefore: Expr;
  /** The attempt it opens (a claim), the outcome of the one it ends, or null: the attempt goes on (a renewal). */
  attempt: "opens" | { ends: "done" } | null;
}

/** What a rule's interpretation needs besides the WO: its arguments, the time, and the two facts it may look up. */
export interface RuleEnv {
  args: Record<string, Value | undefined>;
  now: string;
  policy: { max_hold_ms: number | null; done_stage: string | null; require_verification: boolean; idle_limit_ms?: number | null };
  depsPending: boolean;
  lastCheckpointAt: string | null;
}

/**
 * A store that applies a keyed write in one statement keeps, as the key's
 * first result, `{ [RULE_RESULT]: operation, before, after }`: the states the
 * core words its answer from (service/claims.ts, service/finishing.ts).
 */
export const RULE_RESULT = "$workledger_rule";
export interface RuleResult<W> {
  [RULE_RESULT]: string;
  before: W | null;
  after: W;
}
export const isRuleResult = (r: unknown): r is RuleResult<unknown> => typeof r === "object" && r !== null && RULE_RESULT in r;

export type Verdict = { kind: "defer"; why: string } | { kind: "refuse"; code: string } | { kind: "apply" };

type Row = Record<Field, Value>;

/** The WO as the flat row rules read. */
export function ruleRow(wo: StoredWorkOrder): Row {
  const l = wo.lease;
  return {
    project: wo.project,
    id: wo.id,
    status: wo.status,
    prior_status: wo.prior_status,
    lease_agent: l?.agent ?? null,
    lease_token: l?.token ?? null,
    lease_claimed_at: l?.claimed_at ?? null,
    lease_expires_at: l?.expires_at ?? null,
    lease_renewed_at: l?.renewed_at ?? null,
    lease_hold_until: l?.hold_until ?? null,
    fence: wo.fence,
    revision: wo.revision,
    updated_at: wo.updated_at,
    verification: wo.verification,
    pinned_verification: wo.pinned_verification,
    ended_leases: wo.ended_leases,
    requires: wo.requires,
    files: wo.files,
    max_attempts: wo.max_attempts,
    max_usd: wo.max_usd,
    max_tokens: wo.max_tokens,
    spend: wo.spend,
    last_verification: wo.last_verification,
    dead_letter: wo.dead_letter,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const truth = (v: Value): boolean => v === true;

/** The value of `e` for the WO row at the env's time, with SQL's nulls. */
export function evaluate(e: Expr, row: Row, env: RuleEnv): Value {
  if ("f" in e) return row[e.f];
  if ("arg" in e) return env.args[e.arg] ?? null;
  if ("now" in e) return env.now;
  if ("lit" in e) return e.lit;
  if ("policy" in e) return env.policy[e.policy] ?? null;
  if ("depsPending" in e) return env.depsPending;
  if ("lastCheckpointAt" in e) return env.lastCheckpointAt;
  const v = (i: number) => evaluate((e as { args: Expr[] }).args[i]!, row, env);
  switch (e.op) {
    case "and": {
      const xs = e.args.map((x) => evaluate(x, row, env));
      return xs.some((x) => x === false) ? false : xs.some((x) => x === null) ? null : true;
    }
    case "or": {
      const xs = e.args.map((x) => evaluate(x, row, env));
      return xs.some((x) => x === true) ? true : xs.some((x) => x === null) ? null : false;
    }
    case "not": {
      const x = v(0);
      return x === null ? null : !x;
    }
    case "isNull":
      return v(0) === null;
    case "holds":
      return v(0) === true;
    case "in": {
      const x = v(0);
      return x === null ? null : e.values.includes(x as string);
    }
    case "spent":
      return (row.spend as Record<string, number | undefined>)[e.key] ?? 0;
    case "verification":
      return (row.last_verification as Record<string, Value> | null)?.[e.key] ?? null;
    case "object":
      return Object.fromEntries(Object.entries(e.fields).map(([k, x]) => [k, evaluate(x, row, env)]));
    case "prepend": {
      const [list, entry, agent] = [v(0) as { agent: string }[], v(1) as object, v(2)];
      return [entry, ...list.filter((x) => x.agent !== agent)].slice(0, e.keep);
    }
  }
  const a = v(0);
  const b = e.op === "if" ? null : e.args.length > 1 ? v(1) : null;
  switch (e.op) {
    case "eq":
    case "lt":
    case "le":
    case "gt":
    case "ge": {
      if (a === null || b === null) return null;
      const [x, y] = [a as number | string, b as number | string];
      return e.op === "eq" ? x === y : e.op === "lt" ? x < y : e.op === "le" ? x <= y : e.op === "gt" ? x > y : x >= y;
    }
    case "plus":
      return a === null || b === null ? null : (a as number) + (b as number);
    case "minus":
      return a === null || b === null ? null : (a as number) - (b as number);
    case "least":
      return a === null ? b : b === null ? a : Math.min(a as number, b as number);
    case "greatest":
      return a === null ? b : b === null ? a : Math.max(a as number, b as number);
    case "msBetween":
      return a === null || b === null ? null : Date.parse(a as string) - Date.parse(b as string);
    case "addMs":
      return a === null || b === null ? null : iso(Date.parse(a as string) + (b as number));
    case "earliest":
      return a === null ? b : b === null ? a : (a as string) < (b as string) ? a : b;
    case "if":
      return truth(a) ? v(1) : v(2);
    case "subsetOf":
      return a === null || b === null ? null : (a as string[]).every((x) => (b as string[]).includes(x));
    case "isEmpty":
      return a === null ? null : (a as unknown[]).length === 0;
    case "blank":
      return a === null ? null : (a as string).trim() === "";
    case "micros":
      return a === null ? null : Math.round((a as number) * 1e6);
    case "withoutAgent":
      return (a as { agent: string }[]).filter((x) => x.agent !== b);
  }
}

/**
 * Which outcome the rule gives for `wo`: deferred to the core's full
 * sequence, refused (the first code that holds), or applied. The core itself
 * runs the whole sequence, so it judges without `defer` (deferrable false).
 */
export function decide(rule: WriteRule, wo: StoredWorkOrder, env: RuleEnv, deferrable = true): Verdict {
  const row = ruleRow(wo);
  if (deferrable) for (const d of rule.defer) if (truth(evaluate(d.when, row, env))) return { kind: "defer", why: d.why };
  for (const r of rule.refuse) if (truth(evaluate(r.when, row, env))) return { kind: "refuse", code: r.code };
  return { kind: "apply" };
}

/** The WO after the rule's `set`, and its event data (both from the state before). */
export function effect(rule: WriteRule, wo: StoredWorkOrder, env: RuleEnv): { next: StoredWorkOrder; data: Record<string, unknown> } {
  const row = ruleRow(wo);
  const after: Row = { ...row };
  for (const [k, e] of Object.entries(rule.set) as [Field, Expr][]) after[k] = evaluate(e, row, env);
  const data: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(rule.event?.data ?? {})) {
    const x = evaluate(e, row, env);
    if (x !== null || !rule.event!.omitNull.includes(k)) data[k] = x;
  }
  return { next: fromRow(wo, after), data };
}

function fromRow(wo: StoredWorkOrder, r: Row): StoredWorkOrder {
  const lease: Lease | null =
    r.lease_agent === null
      ? null
      : {
          agent: r.lease_agent as string,
          token: r.lease_token as number,
          claimed_at: r.lease_claimed_at as string,
          expires_at: r.lease_expires_at as string,
          renewed_at: r.lease_renewed_at as string | null,
          hold_until: r.lease_hold_until as string | null,
        };
  return {
    ...wo,
    status: r.status as StoredWorkOrder["status"],
    prior_status: r.prior_status as StoredWorkOrder["prior_status"],
    lease,
    fence: r.fence as number,
    revision: r.revision as number,
    updated_at: r.updated_at as string,
    verification: r.verification as string,
    pinned_verification: r.pinned_verification as string | null,
    ended_leases: r.ended_leases as StoredWorkOrder["ended_leases"],
    dead_letter: r.dead_letter as string | null,
  };
}
