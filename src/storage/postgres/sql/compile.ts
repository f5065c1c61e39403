/**
 * A core write rule (core/rule-data.ts) compiled into one PostgreSQL
 * statement: lock the WO (by id, or the queue's first with SKIP LOCKED),
 * judge it (the first `defer` or `refuse` condition that holds names the
 * verdict), and only when none holds write its new state, its event and its
 * attempt, all from the state before, at one time read once the row is
 * locked. It answers the verdict, the row before and the row after, so the
 * core can word a refusal exactly as it would have (rules.ts).
 *
 * Autocommitted, the statement is its own transaction: one round trip.
 * Its event's order key (events.ts) stays causal: the statement's first
 * write is the lock on the WO it changes, so its transaction id is taken
 * after any wait for that lock, above every id a writer it waited for could
 * have ordered its events by.
 */
import { RULE_RESULT, type ArgType, type Expr, type Field, type PolicyKey, type WriteRule } from "../../../core/rule-data.js";
import { DEFAULT_POLICY } from "../../../core/verification.js";
import { DEPS_DONE, queue } from "./work-orders.js";

const TIME_FIELDS: ReadonlySet<Field> = new Set(["lease_claimed_at", "lease_expires_at", "lease_renewed_at", "lease_hold_until", "updated_at"]);

interface Ctx {
  /** The alias the row's fields are read from. */
  row: string;
  arg: (name: string) => string;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

function literal(v: string | number | boolean | null): string {
  if (v === null) return "NULL";
  if (typeof v === "string") return quote(v);
  if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`rule literal ${v}`);
  return String(v);
}

/** Whether `e` stands for a timestamp (rendered as ISO text where it goes into JSON). */
function isTime(e: Expr): boolean {
  if ("now" in e) return true;
  if ("f" in e) return TIME_FIELDS.has(e.f);
  if ("op" in e) return e.op === "addMs" || e.op === "earliest" || (e.op === "if" && (isTime(e.args[1]) || isTime(e.args[2])));
  return false;
}

const CMP = { eq: "=", lt: "<", le: "<=", gt: ">", ge: ">=" } as const;
/** The verification record's fields as SQL types (text unless named). */
const CAST: Record<string, string> = { passed: "::boolean", dirty: "::boolean", on_its_branch: "::boolean", token: "::integer", at: "::timestamptz" };

/** The project's settings, from the projects row selected with the WO (`wl_p`). */
const POLICY: Record<PolicyKey, (p: string) => string> = {
  max_hold_ms: (p) => `${p}.max_hold_ms`,
  require_verification: (p) => `coalesce(${p}.require_verification, false)`,
  done_stage: (p) => `(${p}.work_rules::json->>'done_stage')`,
  // Absent from the stored rules: the default (work-order-row.ts workRules); present as null: none.
  idle_limit_ms: (p) =>
    `(CASE WHEN coalesce(${p}.work_rules::jsonb ? 'idle_limit_ms', false) THEN (${p}.work_rules::json->>'idle_limit_ms')::float8 ELSE ${DEFAULT_POLICY.idle_limit_ms} END)`,
};

/** Only the whitespace String.prototype.trim removes (so both interpreters call the same commands blank). */
const BLANK = "^[ \t\n\v\f\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*$";

/** `e` as a SQL expression over the row alias in `c`. */
export function sql(e: Expr, c: Ctx): string {
  if ("f" in e) return `${c.row}.${e.f}`;
  if ("arg" in e) return c.arg(e.arg);
  if ("now" in e) return `${c.row}.wl_now`;
  if ("lit" in e) return literal(e.lit);
  if ("policy" in e) return POLICY[e.policy](`(${c.row}.wl_p)`);
  if ("depsPending" in e) return `${c.row}.wl_deps_pending`;
  if ("lastCheckpointAt" in e) return `${c.row}.wl_last_checkpoint`;
  const x = (i: number) => sql((e as { args: Expr[] }).args[i]!, c);
  switch (e.op) {
    case "and":
    case "or":
      return `(${e.args.map((a) => sql(a, c)).join(` ${e.op.toUpperCase()} `)})`;
    case "not":
      return `(NOT ${x(0)})`;
    case "isNull":
      return `(${x(0)} IS NULL)`;
    case "holds":
      return `coalesce(${x(0)}, false)`;
    case "in":
      return `(${x(0)} IN (${e.values.map(quote).join(", ")}))`;
    case "eq":
    case "lt":
    case "le":
    case "gt":
    case "ge":
      return `(${x(0)} ${CMP[e.op]} ${x(1)})`;
    case "plus":
      return `(${x(0)} + ${x(1)})`;
    case "minus":
      return `(${x(0)} - ${x(1)})`;
    case "least":
    case "earliest":
      return `LEAST(${x(0)}, ${x(1)})`;
    case "greatest":
      return `GREATEST(${x(0)}, ${x(1)})`;
    case "msBetween":
      return `(extract(epoch from (${x(0)} - ${x(1)})) * 1000)::float8`;
    case "addMs":
      return `(${x(0)} + ${x(1)} * interval '1 millisecond')`;
    case "if":
      return `(CASE WHEN ${x(0)} THEN ${x(1)} ELSE ${x(2)} END)`;
    case "subsetOf":
      return `(${x(0)} <@ ${x(1)})`;
    case "isEmpty":
      return `(cardinality(${x(0)}) = 0)`;
    case "spent":
      return `coalesce((${c.row}.spend::json->>${quote(e.key)})::float8, 0)`;
    case "micros":
      // Math.round: halves go up.
      return `floor(${x(0)} * 1e6::float8 + 0.5)`;
    case "verification":
      return `(${c.row}.last_verification::json->>${quote(e.key)})${CAST[e.key] ?? ""}`;
    case "object":
      return `json_build_object(${Object.entries(e.fields)
        .map(([k, x]) => `${quote(k)}, ${jsonValue(x, c)}`)
        .join(", ")})`;
    case "prepend":
      return `(SELECT coalesce(json_agg(k.x ORDER BY k.n), '[]')::text FROM (SELECT s.x, s.n FROM (SELECT ${x(1)} AS x, 0::bigint AS n
        UNION ALL SELECT t.x, t.n FROM json_array_elements(${x(0)}::json) WITH ORDINALITY AS t(x, n) WHERE t.x->>'agent' IS DISTINCT FROM ${x(2)}) s
        ORDER BY s.n LIMIT ${e.keep}) k)`;
    case "blank":
      return `(${x(0)} ~ ${quote(BLANK)})`;
    case "withoutAgent":
      return `coalesce((SELECT json_agg(x)::text FROM json_array_elements(${x(0)}::json) AS x WHERE x->>'agent' IS DISTINCT FROM ${x(1)}), '[]')`;
  }
}

/** A value as it goes into the event's JSON data: timestamps as the core writes them (ISO-8601 UTC, milliseconds). */
const jsonValue = (e: Expr, c: Ctx) => (isTime(e) ? `to_char(${sql(e, c)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : sql(e, c));

/** Which WO a rule applies to: one by id, or the first of the project's queue that passes a filter (its SQL from queueFilter). */
export type Target = ({ id: true } | { next: true; filter: string }) & {
  /** The write carries an idempotency key (its parameters follow the rule's: see ruleStatement). */
  keyed?: boolean;
};

/** Lock class of idempotency keys ("wlik"), as tx.ts takes it: a keyed statement and a keyed transaction exclude each other. */
export const IDEMPOTENCY_LOCK_CLASS = 0x776c696b;
/** The name a key's advisory lock is taken under (hashed), by a keyed statement and by a keyed transaction alike. */
export const idempotencyLockName = (project: string, agent: string, key: string) => JSON.stringify([project, agent, key]);

/** What a keyed statement fails with when its key was used already (the core then answers from the record). */
export const KEY_TAKEN = "workledger: idempotency key already used";

/**
 * The statement for `rule` on `target`. Parameters: $1 the project, $2 the
 * WO's id (by id), $3 the time (null: the database's, read once the row is
 * locked), then the rule's arguments in the order of rule.args, for a keyed
 * write five more (the key's lock name, the key, the operation, the
 * request's hash, the keys' window in ms), then the filter's (in
 * `target.filter`, numbered on from there). Only a claim asks whether the
 * project has context (its answer shows the WO's).
 */
export function ruleStatement(rule: WriteRule, target: Target): string {
  const key = `${target.keyed ? "k" : ""}:${"id" in target ? "" : target.filter}`;
  let texts = compiled.get(rule);
  if (!texts) compiled.set(rule, (texts = new Map()));
  let text = texts.get(key);
  if (text === undefined) texts.set(key, (text = compile(rule, target)));
  return text;
}

/** Statements per rule and filter shape: built once, so each call sends the same string (and pg compares it by identity). */
const compiled = new WeakMap<WriteRule, Map<string, string>>();

function compile(rule: WriteRule, target: Target): string {
  const names = Object.keys(rule.args);
  const types: Record<string, ArgType> = rule.args;
  const argAt = (name: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`rule ${rule.name}: no argument ${name}`);
    return `$${4 + i}::${types[name]}`;
  };
  const now = "coalesce($3::timestamptz, date_trunc('milliseconds', clock_timestamp()))";
  const project =
    "(SELECT p FROM projects p WHERE p.name = w.project) AS wl_p" +
    // Read only by the rules that ask for it (a WO's events are few, but a claim need not read them).
    (JSON.stringify(rule).includes('"lastCheckpointAt"')
      ? ", (SELECT max(e.at) FROM events e WHERE e.project = w.project AND e.wo = w.id AND e.type = 'checkpoint') AS wl_last_checkpoint"
      : "");
  const k = 4 + names.length; // the keyed parameters
  // A keyed write takes its key's lock before it locks the WO: a transaction with the same key (tx.ts) waits for it, or it for that one.
  const from = target.keyed ? `work_orders w CROSS JOIN (SELECT pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}, hashtext($${k}::text))) AS lk` : "work_orders w";
  const locked =
    "id" in target
      ? `SELECT w.*, ${now} AS wl_now, NOT ${DEPS_DONE} AS wl_deps_pending, ${project} FROM ${from} WHERE w.project = $1 AND w.id = $2::integer FOR UPDATE OF w`
      : // An expiry anywhere in the project is recorded first by the core's sweep (it may return a WO to the queue ahead of this one).
        `SELECT w.*, ${now} AS wl_now, false AS wl_deps_pending, ${project} ${queue("$1", target.filter)
          .replace("FROM work_orders w", `FROM ${from}`)
          .replace(
            " ORDER BY",
            ` AND $2::integer IS NULL AND NOT EXISTS (SELECT 1 FROM work_orders l WHERE l.project = $1 AND l.lease_expires_at <= ${now}) ORDER BY`,
          )} LIMIT 1 FOR UPDATE OF w SKIP LOCKED`;
  const v: Ctx = { row: "v", arg: argAt };
  const judged = [...rule.defer.map((d) => ({ code: "defer", when: d.when })), ...rule.refuse]
    .map((r) => `WHEN coalesce(${sql(r.when, { row: "c", arg: argAt })}, false) THEN ${quote(r.code)}`)
    .join(" ");
  const set = Object.entries(rule.set)
    .map(([k, e]) => `${k} = ${sql(e, v)}`)
    .join(", ");
  const ev = rule.event;
  const data = Object.entries(ev?.data ?? {}).map(([k, e]) => {
    const pair = `jsonb_build_object(${quote(k)}, ${jsonValue(e, v)})`;
    return ev!.omitNull.includes(k) ? `CASE WHEN ${sql(e, v)} IS NULL THEN '{}'::jsonb ELSE ${pair} END` : pair;
  });
  // A rule without an event (a keep-alive's renewal) appends none: its CTEs stand empty.
  const events = ev
    ? `d AS (SELECT u.project, u.id, u.revision, v.wl_now, (${data.join(" || ")})::json AS data FROM u, v),
  e AS (INSERT INTO events (project, wo, type, agent, revision, at, data, order_xid)
    SELECT d.project, d.id, ${quote(ev.type)}, ${argAt("agent")}, d.revision, d.wl_now, d.data, greatest(pg_current_xact_id(), pg_snapshot_xmax(pg_current_snapshot())) FROM d
        RETURNING seq)`
    : "d AS (SELECT NULL::json AS data WHERE false),\n  e AS (SELECT 1 AS seq WHERE false)";
  const attempt =
    rule.attempt === null
      ? ""
      : rule.attempt === "opens"
        ? `, a AS (INSERT INTO attempts (project, wo, token, agent, started_at, ended_at, outcome)
      SELECT u.project, u.id, u.lease_token, u.lease_agent, u.lease_claimed_at, NULL, NULL FROM u)`
        : // A lease from before attempts were recorded gets its row now (as Tx.saveAttempt does).
          `, a AS (INSERT INTO attempts (project, wo, token, agent, started_at, ended_at, outcome)
      SELECT v.project, v.id, v.lease_token, v.lease_agent, v.lease_claimed_at, v.wl_now, ${quote(rule.attempt.ends)} FROM v, u
            ON CONFLICT (project, wo, token) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome)`;
  // The key's record, in the same statement: the states before and after (the core words the first result from them
  // on a retry, as it did the first time), and a few records past the keys' window cleared, as the core does.
  const keyed = target.keyed
    ? `, kr AS (INSERT INTO idempotent_writes (project, agent, key, operation, request_hash, result, created_at)
      SELECT u.project, ${argAt("agent")}, $${k + 1}::text, $${k + 2}::text, $${k + 3}::text,
        json_build_object('${RULE_RESULT}', $${k + 2}::text, 'before', (SELECT to_json(c) FROM c), 'after', to_json(u))::text, v.wl_now FROM u, v
      ON CONFLICT (project, agent, key) DO NOTHING RETURNING 1),
    kp AS (DELETE FROM idempotent_writes WHERE ctid IN (SELECT ctid FROM idempotent_writes
      WHERE created_at < ${now} - $${k + 4}::float8 * interval '1 millisecond' ORDER BY created_at LIMIT 16 FOR UPDATE SKIP LOCKED))`
    : "";
  // Its key already used: the whole statement fails (nothing is written) and the core answers from the record.
  // (The error is built from a value known only when it runs, so the planner cannot raise it early.)
  const taken = target.keyed
    ? `, (SELECT CASE WHEN EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM kr) THEN ('${KEY_TAKEN} ' || clock_timestamp()::text)::integer END) AS key_taken`
    : "";
  return `WITH c AS (${locked}),
  v AS (SELECT c.*, CASE ${judged} ELSE NULL END AS wl_verdict FROM c),
  u AS (UPDATE work_orders w SET ${set} FROM v WHERE v.wl_verdict IS NULL AND w.project = v.project AND w.id = v.id RETURNING w.*),
  ${events}${attempt}${keyed}
  SELECT (SELECT wl_verdict FROM v) AS verdict${taken},
    (SELECT to_json(c) FROM v c WHERE c.wl_verdict IS NOT NULL OR coalesce(${sql(rule.needsBefore, { row: "c", arg: argAt })}, false)) AS before, (SELECT to_json(u) FROM u) AS after,
    (SELECT data FROM d) AS data, (SELECT wl_now FROM v) AS at, (SELECT count(*) FROM e) AS events,
        ${rule.attempt === "opens" ? "EXISTS (SELECT 1 FROM context WHERE project = $1)" : "false"} AS has_context`;
}
