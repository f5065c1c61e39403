/** Statements about work orders: the queue, lapsed leases, claim --next's probe, and how a WO is written. */
import { QUEUE_ORDER } from "../../../core/types.js";
import type { QueueFilter } from "../../../core/stages.js";
import { WO_COLUMNS } from "../records.js";

export const DEPS_DONE = `(cardinality(w.depends_on) = 0 OR NOT EXISTS (
  SELECT 1 FROM unnest(w.depends_on) AS d(id)
  LEFT JOIN work_orders x ON x.project = w.project AND x.id = d.id
  WHERE x.status IS DISTINCT FROM 'done'))`;

/** The open queue in claim order, for the project in parameter `p`, with a filter's conditions (queueFilter). */
export const queue = (p: string, filter = "") => `FROM work_orders w WHERE w.project = ${p} AND w.status = 'open'${filter} AND ${DEPS_DONE} ORDER BY ${QUEUE_ORDER}`;
/**
 * A queue filter (core/stages.ts) as conditions, each with its parameter
 * from `arg`. A statement's text depends only on which filters are given,
 * so each shape is prepared once and planned with its own indexes.
 */
export function queueFilter(f: QueueFilter | undefined, arg: (v: unknown) => string): string {
  let sql = "";
  if (f?.stage !== undefined) sql += ` AND w.stage = ${arg(f.stage)}`;
  if (f?.labels) sql += ` AND w.labels && ${arg(f.labels)}::text[]`;
  if (f?.can) sql += ` AND w.requires <@ ${arg(f.can)}::text[]`;
  return sql;
}
/**
 * Lapsed leases: $1 the transaction's clock, or null as a first statement,
 * when its answer is still on the way (start()) and now() is the same
 * transaction start time; $2 the project (null: all); $3 the limit.
 */
export const LAPSED = `FROM work_orders w WHERE w.lease_expires_at <= coalesce($1::timestamptz, now()) AND ($2::text IS NULL OR w.project = $2)
  ORDER BY w.lease_expires_at, w.project, w.id LIMIT $3`;
/** claimProbe in one statement, its queue filtered by `filter` (parameters from $4); it always returns a row, whose `found` says whether the project exists. */
export const claimProbe = (filter: string) => `WITH lapsed AS (SELECT w.* ${LAPSED} FOR UPDATE SKIP LOCKED),
  first AS (SELECT w.*, clock_timestamp() AS locked_at ${queue("$2", filter)} LIMIT 1 FOR UPDATE OF w SKIP LOCKED)
  SELECT p.found, p.has_context, p.max_hold_ms, r.* FROM (SELECT EXISTS (SELECT 1 FROM projects WHERE name = $2) AS found,
    EXISTS (SELECT 1 FROM context WHERE project = $2) AS has_context, (SELECT max_hold_ms FROM projects WHERE name = $2) AS max_hold_ms) p
  LEFT JOIN (SELECT 'lapsed' AS probe, to_json(lapsed) AS wo, NULL::timestamptz AS locked_at FROM lapsed
    UNION ALL SELECT 'first', to_json(first), first.locked_at FROM first) r ON true`;
/** Work orders are selected as one JSON column (see jsonToWorkOrder). */
export const WO_JSON = "to_json(w) AS wo";

/**
 * A WO goes to the server as one JSON parameter (woJson), spread into a row of
 * the table's type by json_populate_record: JSON.stringify is native, where
 * pg prepared 25 parameters one by one and escaped four arrays element by
 * element. PostgreSQL turns JSON arrays into the array columns.
 */
const WO_RECORD = (p: number) => `json_populate_record(NULL::work_orders, $${p}::json)`;
export const INSERT_WO = `INSERT INTO work_orders (${WO_COLUMNS.join(", ")}) SELECT ${WO_COLUMNS.join(", ")} FROM ${WO_RECORD(1)}`;
const SET_COLUMNS = WO_COLUMNS.filter((c) => c !== "project" && c !== "id");
export const UPDATE_WO = `UPDATE work_orders w SET (${SET_COLUMNS.join(", ")}) = (${SET_COLUMNS.map((c) => `r.${c}`).join(", ")})
  FROM ${WO_RECORD(1)} r WHERE w.project = r.project AND w.id = r.id`;

/** Attempts opened or ended, as one JSON array in parameter `p`: inserted, or their end written over (see Tx.saveAttempt). */
export const saveAttempts = (p: number) => `INSERT INTO attempts (project, wo, token, agent, started_at, ended_at, outcome)
  SELECT a.project, a.wo, a.token, a.agent, a.started_at, a.ended_at, a.outcome
  FROM json_to_recordset($${p}::json) AS a(project text, wo integer, token integer, agent text, started_at timestamptz, ended_at timestamptz, outcome text)
  ON CONFLICT (project, wo, token) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome`;
export const SAVE_ATTEMPTS = saveAttempts(1);
