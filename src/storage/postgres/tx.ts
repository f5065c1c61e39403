/**
 * The storage port's operations as parameterised PostgreSQL statements, run on
 * the session that holds the transaction (session.ts); the longer statements
 * are in sql/, one module per family.
 *
 * Writes run at READ COMMITTED, so locking is the adapter's whole job here
 * (the rules stay in the core). Each lock stands in for a guarantee SQLite's
 * single writer gives for free:
 * - a WO read by id in a write transaction is locked (FOR UPDATE): of N
 *   claimants exactly one wins, the rest wait, then see its lease;
 * - candidate lists (claimable, expiredLeases) skip rows another writer holds
 *   (FOR UPDATE SKIP LOCKED), so no WO is handed to two workers and nobody
 *   waits on a row someone else is already taking;
 * - reading a project's live leases in a write transaction takes the
 *   project's lease-set lock, so file-conflict checks see every other claim;
 * - events take no lock at all: they carry an ordering key that lets
 *   followers read them gap-free without serialising commits (below).
 * Read transactions (REPEATABLE READ READ ONLY) never lock.
 */
import type { AgentActivity, AttemptQuery, ClaimProbe, IdempotentWrite, ListQuery, SpendQuery, Tx } from "../../core/port.js";
import type { ReportWindow } from "../../core/report.js";
import { STATUS_EVENTS, type StatusChange } from "../../core/flow.js";
import type { Attempt, SpendRecord, ContextEntry, LedgerEvent, Note, ProjectPolicy, ProjectSummary, StoredWorkOrder, TokenRecord } from "../../core/types.js";
import type { Webhook } from "../../core/webhooks.js";
import { WEBHOOK_COLUMNS } from "../webhook-columns.js";
import {
  ATTEMPT_COLUMNS,
  countedSql,
  foldProjectCounts,
  POLICY_COLUMNS,
  policyRow,
  projectColumns,
  SPEND_COLUMNS,
  REPORT_ATTEMPTS_SQL,
  reportSpendSql,
  latestContextIds,
  toProject,
  toSpend,
  type ProjectRow,
  type SpendRow,
} from "../work-order-row.js";
import { toMicros } from "../../core/pricing.js";
import { jsonToWorkOrder, woJson, type ContextRow, type EventRow, type NoteRow } from "./records.js";
import { IDEMPOTENCY_LOCK_CLASS, idempotencyLockName } from "./sql/compile.js";
import { isRuleResult, RULE_RESULT } from "../../core/rule-data.js";
import { PgSession } from "./session.js";
import { CURSOR, EVENT_COLUMNS, SETTLED } from "./sql/events.js";
import { claimProbe, INSERT_WO, LAPSED, queue, queueFilter, WO_JSON } from "./sql/work-orders.js";
import type { QueueFilter } from "../../core/stages.js";

/** Parameters $first… of a statement, and their values. */
function params(first: number): { values: unknown[]; arg: (v: unknown) => string } {
  const values: unknown[] = [];
  return { values, arg: (v) => (values.push(v), `$${first + values.length - 1}`) };
}

export { ClockNotRead } from "./session.js";

/** Lock class of the per-project lease-set locks ("wlls"); the two-int key space is apart from the bigint keys. */
const LEASES_LOCK_CLASS = 0x776c6c73;
/**
 * A key's record written by a one-statement rule (sql/compile.ts) holds the
 * WO's rows before and after as PostgreSQL gave them: handed to the core as
 * its records, like any other read.
 */
function asCoreResult(w: IdempotentWrite): IdempotentWrite {
  if (!w.result.includes(RULE_RESULT)) return w;
  const r = JSON.parse(w.result) as Record<string, unknown>;
  if (!isRuleResult(r)) return w;
  const wo = (row: unknown) => (row === null ? null : jsonToWorkOrder(row as Record<string, unknown>));
  return { ...w, result: JSON.stringify({ ...r, before: wo(r.before), after: wo(r.after) }) };
}

const webhookValues = (w: Webhook) => WEBHOOK_COLUMNS.map((c) => (c === "events" || c === "health" ? JSON.stringify(w[c]) : w[c]));

export class PgTx extends PgSession implements Tx {
  async getProject(name: string) {
    const [r] = await this.rows<ProjectRow>(`SELECT ${projectColumns()} FROM projects WHERE name = $1`, [name]);
    return r ? toProject(r) : null;
  }

  async setProjectPolicy(name: string, policy: ProjectPolicy) {
    await this.run(`UPDATE projects SET ${POLICY_COLUMNS.map((c, i) => `${c} = $${i + 2}`).join(", ")} WHERE name = $1`, [name, ...policyRow(policy)]);
  }

  async insertProject(name: string, at: string) {
    await this.run("INSERT INTO projects (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, at]);
  }

  async projectNames() {
    return (await this.rows<{ name: string }>("SELECT name FROM projects ORDER BY name")).map((r) => r.name);
  }

  async listProjects(): Promise<ProjectSummary[]> {
    const rows = await this.rows<ProjectRow & { next_id: string; status: string; n: string }>(countedSql("postgres"));
    return foldProjectCounts(rows);
  }

  /** The UPDATE row-locks the project, so concurrent creates in one project take turns here and never share an id. */
  async allocateIds(project: string, count: number) {
    const [r] = await this.rows<{ first: number }>("UPDATE projects SET next_id = next_id + $2 WHERE name = $1 RETURNING next_id - $2 AS first", [project, count]);
    if (!r) throw new Error(`allocateIds: project ${project} does not exist`);
    return r.first;
  }

  async getWorkOrder(project: string, id: number) {
    const [wo] = await this.workOrders(
      `SELECT ${WO_JSON}${this.writing ? ", clock_timestamp() AS locked_at" : ""} FROM work_orders w WHERE w.project = $1 AND w.id = $2` + this.lock("FOR UPDATE"),
      [project, id],
    );
    return wo ?? null;
  }

  async notDoneOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    const rows = await this.rows<{ id: number }>(
      `SELECT d.id FROM unnest($2::integer[]) AS d(id)
       LEFT JOIN work_orders x ON x.project = $1 AND x.id = d.id
       WHERE x.status IS DISTINCT FROM 'done' ORDER BY d.id`,
      [project, ids],
    );
    return rows.map((r) => r.id);
  }

  async dependenciesOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    return this.rows<{ id: number; depends_on: number[] }>("SELECT id, depends_on FROM work_orders WHERE project = $1 AND id = ANY($2::integer[])", [project, ids]);
  }

  async missingOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    const rows = await this.rows<{ id: number }>(
      `SELECT d.id FROM unnest($2::integer[]) AS d(id)
       WHERE NOT EXISTS (SELECT 1 FROM work_orders x WHERE x.project = $1 AND x.id = d.id) ORDER BY d.id`,
      [project, ids],
    );
    return rows.map((r) => r.id);
  }

  async insertWorkOrder(wo: StoredWorkOrder) {
    await this.run(INSERT_WO, [woJson(wo)]);
  }

  /** In one project with a status filter: one index range per status, merged (as on SQLite). */
  async listWorkOrders(q: ListQuery) {
    const where: string[] = [];
    const { values: args, arg } = params(1);
    const limit = arg(q.limit);
    if (q.label !== undefined) where.push(`${arg(q.label)}::text = ANY(w.labels)`);
    if (q.agent !== undefined) where.push(`w.lease_agent = ${arg(q.agent)}`);
    if (q.after !== undefined) where.push(`w.id > ${arg(q.after)}`);
    if (q.project !== undefined && q.statuses) {
      const project = arg(q.project);
      const one = (status: string) =>
        `(SELECT w.id, ${WO_JSON} FROM work_orders w WHERE ${[`w.project = ${project}`, `w.status = ${arg(status)}`, ...where].join(" AND ")} ORDER BY w.id LIMIT ${limit})`;
      return this.workOrders(`SELECT wo FROM (${q.statuses.map(one).join(" UNION ALL ")}) u ORDER BY id LIMIT ${limit}`, args);
    }
    if (q.project !== undefined) where.push(`w.project = ${arg(q.project)}`);
    if (q.statuses) where.push(`w.status = ANY(${arg(q.statuses)}::text[])`);
    return this.workOrders(`SELECT ${WO_JSON} FROM work_orders w ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY w.project, w.id LIMIT ${limit}`, args);
  }

  /**
   * In a write transaction (claim --next) the rows are locked with SKIP LOCKED:
   * rows another claimant is looking at are passed over instead of waited for.
   * The core probes one row at a time, so a concurrent claim --next takes the
   * next free one, not the same.
   */
  async stageCounts(project: string) {
    return this.rows<{ stage: string | null; n: number }>(
      "SELECT stage, count(*)::int AS n FROM work_orders WHERE project = $1 AND status IN ('open', 'claimed', 'blocked') GROUP BY stage ORDER BY stage",
      [project],
    );
  }

  async claimable(project: string, limit: number, offset: number, filter?: QueueFilter) {
    const p = params(4);
    const where = queueFilter(filter, p.arg);
    return this.workOrders(
      `SELECT ${WO_JSON}${this.writing ? ", clock_timestamp() AS locked_at" : ""} ${queue("$1", where)} LIMIT $2 OFFSET $3` + this.lock("FOR UPDATE OF w SKIP LOCKED"),
      [project, limit, offset, ...p.values],
    );
  }

  /**
   * In a write transaction (a claim) the project's lease set is locked first.
   * Row locks cannot stop two claimants of different WOs with overlapping
   * files from each missing the other's uncommitted lease and both winning;
   * SQLite's single writer cannot let that happen, so claims in one project
   * take turns from here to commit. The read is its own statement so that its
   * snapshot is taken after the lock is granted.
   */
  async liveLeases(project: string, now: string) {
    if (this.writing) await this.run("SELECT pg_advisory_xact_lock($1::integer, hashtext($2))", [LEASES_LOCK_CLASS, project]);
    return this.workOrders(`SELECT ${WO_JSON} FROM work_orders w WHERE w.lease_expires_at > $1 AND w.project = $2 ORDER BY w.id`, [now, project]);
  }

  /** A lapsed lease another writer is already expiring is skipped, not waited for. */
  async expiredLeases(project: string | null, limit: number) {
    return this.workOrders(`SELECT ${WO_JSON} ${LAPSED}` + this.lock("FOR UPDATE SKIP LOCKED"), [this.at ?? null, project, limit]);
  }

  /** Locks as expiredLeases and claimable do; write transactions only. */
  async claimProbe(project: string, limit: number, filter?: QueueFilter): Promise<ClaimProbe> {
    const p = params(4);
    const where = queueFilter(filter, p.arg);
    const rows = await this.rows<{
      found: boolean;
      has_context: boolean;
      max_hold_ms: number | null;
      probe: "lapsed" | "first" | null;
      wo: Record<string, unknown>;
      locked_at?: string;
    }>(claimProbe(where), [this.at ?? null, project, limit, ...p.values]);
    const [first] = this.locked(rows.filter((r) => r.probe === "first"));
    return {
      exists: rows[0]?.found === true,
      hasContext: rows[0]?.has_context === true,
      maxHoldMs: rows[0]?.max_hold_ms ?? null,
      lapsed: rows.filter((r) => r.probe === "lapsed").map((r) => jsonToWorkOrder(r.wo)),
      first: first ? jsonToWorkOrder(first.wo) : null,
    };
  }

  async listAttempts(q: AttemptQuery) {
    const rows = await this.rows<Attempt>(
      // A window is its own statement: `$4 IS NULL OR started_at >= $4` keeps a generic plan off the index by time.
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE project = $1 AND ($2::int IS NULL OR wo = $2) AND ($3::text IS NULL OR agent = $3)
       ${q.since === undefined ? "AND $4::timestamptz IS NULL" : "AND started_at >= $4"} ORDER BY started_at DESC, wo DESC, token DESC LIMIT $5`,
      [q.project, q.wo ?? null, q.agent ?? null, q.since ?? null, q.limit],
    );
    return rows.reverse();
  }

  async insertSpend(r: Omit<SpendRecord, "id">): Promise<SpendRecord> {
    const [row] = await this.rows<{ id: number }>(
      `INSERT INTO spend (project, wo, token, agent, phase, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_micros, source, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [
        r.project,
        r.wo,
        r.token,
        r.agent,
        r.phase,
        r.model,
        r.tokens_in,
        r.tokens_out,
        r.cache_read_tokens,
        r.cache_write_tokens,
        r.cost_usd === null ? null : toMicros(r.cost_usd),
        r.source,
        r.created_at,
      ],
    );
    return { id: row!.id, ...r };
  }

  async listSpend(q: SpendQuery) {
    const rows = await this.rows<SpendRow>(
      // A window reads its range of the index by time, newest first (by id it read every row of the project: issue 29).
      `SELECT ${SPEND_COLUMNS} FROM spend WHERE project = $1 AND ($2::int IS NULL OR wo = $2) AND ($3::int IS NULL OR token = $3)
       AND ($4::text IS NULL OR source = $4) ${q.since === undefined ? "AND $5::timestamptz IS NULL ORDER BY id DESC" : "AND created_at >= $5 ORDER BY created_at DESC, id DESC"} LIMIT $6`,
      [q.project, q.wo ?? null, q.token ?? null, q.source ?? null, q.since ?? null, q.limit],
    );
    return rows.reverse().map(toSpend);
  }

  async reportWindow(project: string, since: string, limit: number): Promise<ReportWindow> {
    const args = [project, since, limit];
    const [attempts, spend] = await Promise.all([
      this.rows<ReportWindow["attempts"][number]>(REPORT_ATTEMPTS_SQL, args),
      this.rows<ReportWindow["spend"][number]>(reportSpendSql("to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"), args),
    ]);
    return { attempts, spend };
  }

  async labelsOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    return this.rows<{ id: number; labels: string[] }>("SELECT id, labels FROM work_orders WHERE project = $1 AND id = ANY($2::integer[])", [project, ids]);
  }

  async insertNote(note: Omit<Note, "id">): Promise<Note> {
    const [r] = await this.rows<{ id: number }>("INSERT INTO notes (project, wo, agent, kind, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", [
      note.project,
      note.wo,
      note.agent,
      note.kind,
      note.body,
      note.created_at,
    ]);
    return { id: r!.id, ...note };
  }

  async listNotes(project: string, wo: number) {
    return this.rows<NoteRow>("SELECT id, project, wo, agent, kind, body, created_at FROM notes WHERE project = $1 AND wo = $2 ORDER BY id", [project, wo]);
  }

  async listEvents(project: string | null, wo: number | null, after: number, limit: number, newest = false): Promise<LedgerEvent[]> {
    const cols = "SELECT seq, project, wo, type, agent, revision, at, data FROM events";
    const order = newest ? "ORDER BY seq DESC" : "ORDER BY seq";
    const rows = await (project === null
      ? this.rows<EventRow>(`${cols} WHERE seq > $1 ${order} LIMIT $2`, [after, limit])
      : wo === null
        ? this.rows<EventRow>(`${cols} WHERE project = $1 AND seq > $2 ${order} LIMIT $3`, [project, after, limit])
        : this.rows<EventRow>(`${cols} WHERE project = $1 AND wo = $2 AND seq > $3 ${order} LIMIT $4`, [project, wo, after, limit]));
    return newest ? rows.reverse() : rows;
  }

  async eventsOfType(project: string, wo: number, type: LedgerEvent["type"], limit: number): Promise<LedgerEvent[]> {
    const cols = "SELECT seq, project, wo, type, agent, revision, at, data FROM events";
    return (await this.rows<EventRow>(`${cols} WHERE project = $1 AND wo = $2 AND type = $3 ORDER BY seq DESC LIMIT $4`, [project, wo, type, limit])).reverse();
  }

  /** The follower's read (see "Event order"): settled events after the cursor's position, in stream order. */
  async followEvents(project: string | null, after: number, limit: number): Promise<LedgerEvent[]> {
    return project === null
      ? this.rows<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE (order_xid, seq) > (${CURSOR}, $1) AND ${SETTLED} ORDER BY order_xid, seq LIMIT $2`, [after, limit])
      : this.rows<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE project = $3 AND (order_xid, seq) > (${CURSOR}, $1) AND ${SETTLED} ORDER BY order_xid, seq LIMIT $2`, [
          after,
          limit,
          project,
        ]);
  }

  /** "Now" for a follower: the last settled event in stream order, so nothing after it has been delivered yet. */
  async lastEventSeq(project: string | null) {
    const rows =
      project === null
        ? await this.rows<{ seq: number }>(`SELECT seq FROM events WHERE ${SETTLED} ORDER BY order_xid DESC, seq DESC LIMIT 1`)
        : await this.rows<{ seq: number }>(`SELECT seq FROM events WHERE project = $1 AND ${SETTLED} ORDER BY order_xid DESC, seq DESC LIMIT 1`, [project]);
    return rows[0]?.seq ?? 0;
  }

  async recentEventsOfTypes(project: string, types: readonly LedgerEvent["type"][], since: string, limit: number): Promise<LedgerEvent[]> {
    if (types.length === 0) return [];
    const cols = "SELECT seq, project, wo, type, agent, revision, at, data FROM events";
    return (await this.rows<EventRow>(`${cols} WHERE project = $1 AND type = ANY($2) AND at >= $3 ORDER BY seq DESC LIMIT $4`, [project, types, since, limit])).reverse();
  }

  async agentActivity(project: string, since: string): Promise<AgentActivity[]> {
    return this.rows<AgentActivity>(
      `WITH ev AS (SELECT agent, max(at) AS last_at, count(*)::integer AS events FROM events WHERE project = $1 AND at >= $2 AND type <> 'expired' GROUP BY agent),
       tries AS (SELECT agent, count(*)::integer AS attempts, (count(*) FILTER (WHERE outcome = 'done'))::integer AS done,
                   (count(*) FILTER (WHERE outcome IN ('expired', 'lost')))::integer AS lost
                 FROM attempts WHERE project = $1 AND started_at >= $2 GROUP BY agent),
       spent AS (SELECT agent, sum(coalesce(cost_micros, 0))::float8 AS micros FROM spend WHERE project = $1 AND created_at >= $2 GROUP BY agent),
       claims AS (SELECT agent, (data->>'ttl_ms')::float8 AS ttl_ms FROM events
                  WHERE seq IN (SELECT max(seq) FROM events WHERE project = $1 AND type = 'claimed' AND at >= $2 GROUP BY agent)),
       who AS (SELECT agent FROM ev UNION SELECT agent FROM tries UNION SELECT agent FROM spent)
       SELECT who.agent, ev.last_at, coalesce(ev.events, 0) AS events, coalesce(tries.attempts, 0) AS attempts, coalesce(tries.done, 0) AS done,
         coalesce(tries.lost, 0) AS lost, coalesce(spent.micros, 0) AS spend_micros, claims.ttl_ms
       FROM who LEFT JOIN ev USING (agent) LEFT JOIN tries USING (agent) LEFT JOIN spent USING (agent) LEFT JOIN claims USING (agent) ORDER BY who.agent`,
      [project, since],
    );
  }

  async statusChanges(project: string, since: string, limit: number): Promise<{ before: StatusChange[]; changes: StatusChange[] }> {
    // The WO's creation time only where it is needed (done), as on SQLite.
    const rows = (where: string, args: unknown[]) =>
      this.rows<StatusChange>(
        `SELECT wo, at, type, "to", CASE WHEN "to" = 'done' THEN (SELECT created_at FROM work_orders w WHERE w.project = $1 AND w.id = c.wo) END AS created_at
         FROM (SELECT e.wo, CASE e.type WHEN 'expired' THEN coalesce((e.data->>'expires_at')::timestamptz, e.at) ELSE e.at END AS at, e.type,
                 CASE e.type WHEN 'created' THEN 'open' WHEN 'claimed' THEN 'claimed' WHEN 'status_changed' THEN e.data->>'to' ELSE e.data->>'status' END AS "to"
               FROM events e WHERE ${where}) c`,
        args,
      );
    const [before, changes] = await Promise.all([
      rows("e.seq IN (SELECT max(seq) FROM events WHERE project = $1 AND type = ANY($2) AND at < $3 GROUP BY wo)", [project, STATUS_EVENTS, since]),
      rows("e.project = $1 AND e.type = ANY($2) AND e.at >= $3 ORDER BY e.seq LIMIT $4", [project, STATUS_EVENTS, since, limit]),
    ]);
    return { before, changes };
  }

  async lastEventAt() {
    // The newest by seq (the primary key), not max(at), which read every event.
    return (await this.rows<{ at: string }>("SELECT at FROM events ORDER BY seq DESC LIMIT 1"))[0]?.at ?? null;
  }

  async insertContext(entry: Omit<ContextEntry, "id">): Promise<ContextEntry> {
    const [r] = await this.rows<{ id: number }>("INSERT INTO context (project, key, body, agent, wo, created_at, git) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id", [
      entry.project,
      entry.key,
      entry.body,
      entry.agent,
      entry.wo,
      entry.created_at,
      entry.git === null ? null : JSON.stringify(entry.git),
    ]);
    return { id: r!.id, ...entry };
  }

  async latestContext(project: string, key: string | null, wo: number | null) {
    // A WO's own entries are few (context_by_wo); the project's are found key by key (latestContextIds).
    if (wo !== null)
      return this.rows<ContextRow>(
        `SELECT c.id, c.project, c.key, c.body, c.agent, c.wo, c.created_at, c.git FROM context c
         JOIN (SELECT max(id) AS id FROM context WHERE project = $1 AND ($2::text IS NULL OR key = $2) AND wo = $3 GROUP BY key) m ON m.id = c.id
         ORDER BY c.key, c.id DESC`,
        [project, key, wo],
      );
    return this.rows<ContextRow>(
      `SELECT id, project, key, body, agent, wo, created_at, git FROM context WHERE id IN (${latestContextIds("$1", "$2::text")}) ORDER BY key, id DESC`,
      [project, key],
    );
  }

  async contextHistory(project: string, key: string | null, limit: number, wo: number | null) {
    return this.rows<ContextRow>(
      `SELECT id, project, key, body, agent, wo, created_at, git FROM context
       WHERE project = $1 AND ($2::text IS NULL OR key = $2) AND ($4::int IS NULL OR wo = $4) ORDER BY id DESC LIMIT $3`,
      [project, key, limit, wo],
    );
  }

  async contextPage(project: string, after: number, limit: number) {
    return this.rows<ContextRow>(`SELECT id, project, key, body, agent, wo, created_at, git FROM context WHERE project = $1 AND id > $2 ORDER BY id LIMIT $3`, [
      project,
      after,
      limit,
    ]);
  }

  /** In a write transaction the key is locked first (a transaction-scoped advisory lock): a concurrent retry waits for this one, then finds its record. */
  async getIdempotentWrite(project: string, agent: string, key: string) {
    // The lock and the read go out together; the read's snapshot is taken when it runs, after the lock is granted.
    const locked = this.writing ? this.run("SELECT pg_advisory_xact_lock($1::integer, hashtext($2))", [IDEMPOTENCY_LOCK_CLASS, idempotencyLockName(project, agent, key)]) : null;
    const read = this.rows<IdempotentWrite>(
      "SELECT project, agent, key, operation, request_hash, result, created_at FROM idempotent_writes WHERE project = $1 AND agent = $2 AND key = $3",
      [project, agent, key],
    );
    // Both awaited together: if the connection dies, both fail, and neither failure may go unheard (an unhandled rejection ends the process).
    const [, [r]] = await Promise.all([locked, read]);
    return r ? asCoreResult(r) : null;
  }

  async prunable(project: string, before: string, limit: number) {
    const rows = await this.rows<{ id: number }>(
      `SELECT id FROM work_orders w WHERE project = $1 AND status IN ('done', 'cancelled') AND updated_at < $2::timestamptz
         AND EXISTS (SELECT 1 FROM events e WHERE e.project = w.project AND e.wo = w.id) ORDER BY id LIMIT $3`,
      [project, before, limit],
    );
    return rows.map((r) => r.id);
  }

  async pruneHistory(project: string, ids: readonly number[]) {
    const del = (table: string) => this.run(`DELETE FROM ${table} WHERE project = $1 AND wo = ANY($2::integer[])`, [project, ids]);
    return { events: await del("events"), notes: await del("notes"), context: await del("context"), spend: await del("spend") };
  }

  async insertWebhook(w: Webhook) {
    await this.run(`INSERT INTO webhooks (${WEBHOOK_COLUMNS.join(", ")}) VALUES (${WEBHOOK_COLUMNS.map((_c, i) => `$${i + 1}`).join(", ")})`, webhookValues(w));
  }

  async getWebhook(id: string) {
    const rows = this.locked(
      await this.rows<Webhook & { locked_at?: string }>(
        `SELECT ${WEBHOOK_COLUMNS.join(", ")}${this.writing ? ", clock_timestamp() AS locked_at" : ""} FROM webhooks WHERE id = $1` + this.lock("FOR UPDATE"),
        [id],
      ),
    );
    if (rows[0] === undefined) return null;
    const { locked_at: _l, ...w } = rows[0];
    return w;
  }

  async listWebhooks() {
    return this.rows<Webhook>(`SELECT ${WEBHOOK_COLUMNS.join(", ")} FROM webhooks ORDER BY created_at, id`);
  }

  async saveWebhook(w: Webhook) {
    const set = WEBHOOK_COLUMNS.map((c, i) => `${c} = $${i + 1}`).slice(1);
    await this.run(`UPDATE webhooks SET ${set.join(", ")} WHERE id = $1`, webhookValues(w));
  }

  async deleteWebhook(id: string) {
    return (await this.run("DELETE FROM webhooks WHERE id = $1", [id])) > 0;
  }

  async insertToken(t: TokenRecord) {
    await this.run("INSERT INTO tokens (id, agent, role, project, hash, created_at, revoked_at, can) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", [
      t.id,
      t.agent,
      t.role,
      t.project,
      t.hash,
      t.created_at,
      t.revoked_at,
      t.can,
    ]);
  }

  async findToken(hash: string) {
    return (await this.rows<TokenRecord>("SELECT id, agent, role, project, hash, created_at, revoked_at, can FROM tokens WHERE hash = $1", [hash]))[0] ?? null;
  }

  async listTokens() {
    return this.rows<TokenRecord>("SELECT id, agent, role, project, hash, created_at, revoked_at, can FROM tokens ORDER BY created_at, id");
  }

  async revokeToken(id: string, at: string) {
    return (await this.run("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [id, at])) > 0;
  }
}
