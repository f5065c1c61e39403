/** The storage port's operations as SQLite statements, prepared once per connection. */
import type Database from "better-sqlite3";
import {
  QUEUE_ORDER,
  type Attempt,
  type ContextEntry,
  type LedgerEvent,
  type NewEvent,
  type Note,
  type ProjectPolicy,
  type ProjectSummary,
  type SpendRecord,
  type StoredWorkOrder,
  type TokenRecord,
} from "../../core/types.js";
import type { AgentActivity, AttemptQuery, ClaimProbe, IdempotentWrite, ListQuery, SpendQuery, Tx } from "../../core/port.js";
import type { ReportWindow } from "../../core/report.js";
import { STATUS_EVENTS, type StatusChange } from "../../core/flow.js";
import type { QueueFilter } from "../../core/stages.js";
import type { Webhook } from "../../core/webhooks.js";
import { WEBHOOK_COLUMNS } from "../webhook-columns.js";
import { fromWorkOrder, toContext, toEvent, toWorkOrder, WO_COLUMNS, type ContextRow, type EventRow, type WorkOrderRow } from "./records.js";
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

const DEPS_DONE = `(w.depends_on = '[]' OR NOT EXISTS (
  SELECT 1 FROM json_each(w.depends_on) d
  LEFT JOIN work_orders x ON x.project = w.project AND x.id = d.value
  WHERE x.status IS NOT 'done'))`;

/**
 * A queue filter (core/stages.ts) as SQL with its arguments: lists travel as
 * JSON text and are read with json_each, so a filter is one statement text
 * whatever its lists hold.
 */
function queueWhere(f: QueueFilter | undefined): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f?.stage !== undefined) {
    where.push("w.stage = ?");
    args.push(f.stage);
  }
  if (f?.labels) {
    where.push("EXISTS (SELECT 1 FROM json_each(w.labels) l WHERE l.value IN (SELECT value FROM json_each(?)))");
    args.push(JSON.stringify(f.labels));
  }
  if (f?.can) {
    where.push("(w.requires = '[]' OR NOT EXISTS (SELECT 1 FROM json_each(w.requires) r WHERE r.value NOT IN (SELECT value FROM json_each(?))))");
    args.push(JSON.stringify(f.can));
  }
  return { sql: where.map((w) => ` AND ${w}`).join(""), args };
}

type TokenRow = Omit<TokenRecord, "can"> & { can: string | null };
type WebhookRow = Omit<Webhook, "events" | "health" | "allow_private"> & { events: string; health: string; allow_private: number };
const toWebhook = (r: WebhookRow): Webhook => ({
  ...r,
  events: JSON.parse(r.events) as string[],
  health: JSON.parse(r.health) as Webhook["health"],
  allow_private: r.allow_private === 1,
});
const webhookRow = (w: Webhook) => ({ ...w, events: JSON.stringify(w.events), health: JSON.stringify(w.health), allow_private: w.allow_private ? 1 : 0 });
const toToken = (r: TokenRow): TokenRecord => ({ ...r, can: r.can === null ? null : (JSON.parse(r.can) as string[]) });

const STATEMENT_CACHE = 200;

/**
 * A LIMIT written into the SQL text rather than bound. Since 3.47 SQLite's
 * planner reads a bound LIMIT's value, which makes every later bind re-prepare
 * the statement: the one-row claim probe took 36 µs bound and 9 µs inlined.
 */
function limit(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad limit ${n}`);
  return `LIMIT ${n}`;
}

export class SqliteTx implements Tx {
  /** Set by the store at the start of each transaction. */
  at = "";
  /** Prepared statements by SQL text, least recently used first; bounded because limits are inlined. */
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  private sql(text: string): Database.Statement {
    let s = this.cache.get(text);
    if (s) {
      this.cache.delete(text);
    } else {
      s = this.db.prepare(text);
      if (this.cache.size >= STATEMENT_CACHE) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(text, s);
    return s;
  }

  now(): string {
    return this.at;
  }

  async getProject(name: string) {
    const r = this.sql(`SELECT ${projectColumns()} FROM projects WHERE name = ?`).get(name) as ProjectRow | undefined;
    return r ? toProject(r) : null;
  }

  async setProjectPolicy(name: string, policy: ProjectPolicy) {
    const values = policyRow(policy).map((v) => (typeof v === "boolean" ? Number(v) : v));
    this.sql(`UPDATE projects SET ${POLICY_COLUMNS.map((c) => `${c} = ?`).join(", ")} WHERE name = ?`).run(...values, name);
  }

  async insertProject(name: string, at: string) {
    this.sql("INSERT INTO projects (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING").run(name, at);
  }

  async projectNames() {
    return (this.sql("SELECT name FROM projects ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  }

  async listProjects(): Promise<ProjectSummary[]> {
    const rows = this.sql(countedSql("sqlite")).all() as (ProjectRow & {
      next_id: number;
      status: string;
      n: number;
    })[];
    return foldProjectCounts(rows);
  }

  async allocateIds(project: string, count: number) {
    const r = this.sql("UPDATE projects SET next_id = next_id + ? WHERE name = ? RETURNING next_id - ? AS first").get(count, project, count) as { first: number };
    return r.first;
  }

  async getWorkOrder(project: string, id: number) {
    const r = this.sql("SELECT * FROM work_orders WHERE project = ? AND id = ?").get(project, id) as WorkOrderRow | undefined;
    return r ? toWorkOrder(r) : null;
  }

  async notDoneOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    const rows = this.sql(
      `SELECT d.value AS id FROM json_each(?) d
       LEFT JOIN work_orders x ON x.project = ? AND x.id = d.value
       WHERE x.status IS NOT 'done' ORDER BY d.value`,
    ).all(JSON.stringify(ids), project) as { id: number }[];
    return rows.map((r) => r.id);
  }

  async missingOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    const rows = this.sql(
      `SELECT d.value AS id FROM json_each(?) d
       WHERE NOT EXISTS (SELECT 1 FROM work_orders x WHERE x.project = ? AND x.id = d.value) ORDER BY d.value`,
    ).all(JSON.stringify(ids), project) as { id: number }[];
    return rows.map((r) => r.id);
  }

  async dependenciesOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    const rows = this.sql("SELECT id, depends_on FROM work_orders WHERE project = ? AND id IN (SELECT value FROM json_each(?))").all(project, JSON.stringify(ids)) as {
      id: number;
      depends_on: string;
    }[];
    return rows.map((r) => ({ id: r.id, depends_on: JSON.parse(r.depends_on) as number[] }));
  }

  async insertWorkOrder(wo: StoredWorkOrder) {
    this.sql(`INSERT INTO work_orders (${WO_COLUMNS.join(", ")}) VALUES (${WO_COLUMNS.map((c) => "@" + c).join(", ")})`).run(fromWorkOrder(wo));
  }

  /** Only the columns that changed: SQLite rewrites every index on a column named in SET (measured: 42 µs naming all 23, 4 µs naming 3). */
  async saveWorkOrder(wo: StoredWorkOrder, prev: StoredWorkOrder) {
    const next = fromWorkOrder(wo);
    const old = fromWorkOrder(prev);
    const changed = WO_COLUMNS.filter((c) => next[c] !== old[c]);
    if (changed.length === 0) return;
    this.sql(`UPDATE work_orders SET ${changed.map((c) => `${c} = ?`).join(", ")} WHERE project = ? AND id = ?`).run(...changed.map((c) => next[c]), prev.project, prev.id);
  }

  /**
   * In one project with a status filter: one (project, status, id) index range
   * per status, each read in id order up to the limit, then merged, so the cost
   * does not depend on how many WOs have other statuses (or on how many match).
   */
  async listWorkOrders(q: ListQuery) {
    const where: string[] = [];
    const args: unknown[] = [];
    const filterBy = (condition: string, ...values: unknown[]) => {
      where.push(condition);
      args.push(...values);
    };
    if (q.label !== undefined) filterBy("EXISTS (SELECT 1 FROM json_each(w.labels) l WHERE l.value = ?)", q.label);
    if (q.agent !== undefined) filterBy("w.lease_agent = ?", q.agent);
    if (q.after !== undefined) filterBy("w.id > ?", q.after);
    const filter = where.map((w) => ` AND ${w}`).join("");
    if (q.project !== undefined && q.statuses) {
      const one = `SELECT * FROM (SELECT * FROM work_orders w WHERE w.project = ? AND w.status = ?${filter} ORDER BY w.id ${limit(q.limit)})`;
      const sql = `${q.statuses.map(() => one).join(" UNION ALL ")} ORDER BY id ${limit(q.limit)}`;
      return (this.sql(sql).all(...q.statuses.flatMap((s) => [q.project, s, ...args])) as WorkOrderRow[]).map(toWorkOrder);
    }
    if (q.project !== undefined) filterBy("w.project = ?", q.project);
    if (q.statuses) filterBy(`w.status IN (${q.statuses.map(() => "?").join(", ")})`, ...q.statuses);
    const sql = `SELECT * FROM work_orders w ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY w.project, w.id ${limit(q.limit)}`;
    return (this.sql(sql).all(...args) as WorkOrderRow[]).map(toWorkOrder);
  }

  async stageCounts(project: string) {
    return this.sql("SELECT stage, count(*) AS n FROM work_orders WHERE project = ? AND status IN ('open', 'claimed', 'blocked') GROUP BY stage ORDER BY stage").all(project) as {
      stage: string | null;
      n: number;
    }[];
  }

  async claimable(project: string, count: number, offset: number, filter?: QueueFilter) {
    const q = queueWhere(filter);
    const rows = this.sql(
      `SELECT * FROM work_orders w WHERE w.project = ? AND w.status = 'open'${q.sql} AND ${DEPS_DONE}
       ORDER BY ${QUEUE_ORDER} ${limit(count)} OFFSET ?`,
    ).all(project, ...q.args, offset) as WorkOrderRow[];
    return rows.map(toWorkOrder);
  }

  async claimProbe(project: string, count: number, filter?: QueueFilter): Promise<ClaimProbe> {
    const p = await this.getProject(project);
    const lapsed = await this.expiredLeases(project, count);
    const [first] = await this.claimable(project, 1, 0, filter);
    const hasContext = this.sql("SELECT 1 FROM context WHERE project = ? LIMIT 1").get(project) !== undefined;
    return { exists: p !== null, lapsed, first: first ?? null, hasContext, maxHoldMs: p?.policy.max_hold_ms ?? null };
  }

  async liveLeases(project: string, now: string) {
    const rows = this.sql("SELECT * FROM work_orders WHERE lease_expires_at > ? AND project = ?").all(now, project) as WorkOrderRow[];
    return rows.map(toWorkOrder);
  }

  async expiredLeases(project: string | null, count: number) {
    const rows = this.sql(`SELECT * FROM work_orders WHERE lease_expires_at <= @now AND (@project IS NULL OR project = @project) ${limit(count)}`).all({
      now: this.at,
      project,
    }) as WorkOrderRow[];
    return rows.map(toWorkOrder);
  }

  /** An attempt opens with an INSERT and ends with an UPDATE (an upsert costs more); one claimed before the upgrade is inserted ended. */
  async saveAttempt(a: Attempt) {
    if (a.ended_at !== null) {
      const ended = this.sql("UPDATE attempts SET ended_at = @ended_at, outcome = @outcome WHERE project = @project AND wo = @wo AND token = @token").run(a);
      if (ended.changes > 0) return;
    }
    this.sql(`INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (@project, @wo, @token, @agent, @started_at, @ended_at, @outcome)`).run(a);
  }

  async listAttempts(q: AttemptQuery) {
    const rows = this.sql(
      `SELECT ${ATTEMPT_COLUMNS} FROM attempts WHERE project = @project AND (@wo IS NULL OR wo = @wo) AND (@agent IS NULL OR agent = @agent)
       ${q.since === undefined ? "AND @since IS NULL" : "AND started_at >= @since"} ORDER BY started_at DESC, wo DESC, token DESC ${limit(q.limit)}`,
    ).all({ project: q.project, wo: q.wo ?? null, agent: q.agent ?? null, since: q.since ?? null }) as Attempt[];
    return rows.reverse();
  }

  async insertSpend(r: Omit<SpendRecord, "id">): Promise<SpendRecord> {
    const { cost_usd, ...rest } = r;
    const row = this.sql(
      `INSERT INTO spend (project, wo, token, agent, phase, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_micros, source, created_at)
       VALUES (@project, @wo, @token, @agent, @phase, @model, @tokens_in, @tokens_out, @cache_read_tokens, @cache_write_tokens, @cost_micros, @source, @created_at) RETURNING id`,
    ).get({ ...rest, cost_micros: cost_usd === null ? null : toMicros(cost_usd) }) as { id: number };
    return { id: row.id, ...r };
  }

  async listSpend(q: SpendQuery) {
    const rows = this.sql(
      // A window reads its range of the index by time, newest first (by id it read every row of the project: issue 29).
      `SELECT ${SPEND_COLUMNS} FROM spend WHERE project = @project AND (@wo IS NULL OR wo = @wo) AND (@token IS NULL OR token = @token)
       AND (@source IS NULL OR source = @source) ${q.since === undefined ? "AND @since IS NULL ORDER BY id DESC" : "AND created_at >= @since ORDER BY created_at DESC, id DESC"} ${limit(q.limit)}`,
    ).all({ project: q.project, wo: q.wo ?? null, token: q.token ?? null, source: q.source ?? null, since: q.since ?? null }) as SpendRow[];
    return rows.reverse().map(toSpend);
  }

  async reportWindow(project: string, since: string, limit: number): Promise<ReportWindow> {
    // Rows as arrays made into objects of one shape here: a third of the time of better-sqlite3's row objects, and faster to fold.
    const rows = (sql: string) => this.sql(sql.replaceAll(/\$\d/g, "?")).raw(true).all(project, since, limit) as unknown[][];
    return {
      attempts: rows(REPORT_ATTEMPTS_SQL).map(([wo, token, agent, outcome]) => ({ wo, token, agent, outcome }) as ReportWindow["attempts"][number]),
      spend: rows(reportSpendSql("substr(created_at, 1, 10)")).map(
        ([wo, token, agent, phase, model, tokens_in, tokens_out, cost_micros, day]) =>
          ({ wo, token, agent, phase, model, tokens_in, tokens_out, cost_micros, day }) as ReportWindow["spend"][number],
      ),
    };
  }

  async labelsOf(project: string, ids: readonly number[]) {
    if (ids.length === 0) return [];
    const rows = this.sql("SELECT id, labels FROM work_orders WHERE project = ? AND id IN (SELECT value FROM json_each(?))").all(project, JSON.stringify(ids)) as {
      id: number;
      labels: string;
    }[];
    return rows.map((r) => ({ id: r.id, labels: JSON.parse(r.labels) as string[] }));
  }

  async insertNote(note: Omit<Note, "id">): Promise<Note> {
    const r = this.sql("INSERT INTO notes (project, wo, agent, kind, body, created_at) VALUES (@project, @wo, @agent, @kind, @body, @created_at) RETURNING id").get(note) as {
      id: number;
    };
    return { id: r.id, ...note };
  }

  async listNotes(project: string, wo: number) {
    return this.sql("SELECT id, project, wo, agent, kind, body, created_at FROM notes WHERE project = ? AND wo = ? ORDER BY id").all(project, wo) as Note[];
  }

  async appendEvents(events: readonly NewEvent[]) {
    const ins = this.sql("INSERT INTO events (project, wo, type, agent, revision, at, data) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const e of events) ins.run(e.project, e.wo, e.type, e.agent, e.revision, e.at, JSON.stringify(e.data));
  }

  async listEvents(project: string | null, wo: number | null, after: number, count: number, newest = false): Promise<LedgerEvent[]> {
    const order = `ORDER BY seq ${newest ? "DESC" : ""} ${limit(count)}`;
    const rows = (
      project === null
        ? this.sql(`SELECT * FROM events WHERE seq > ? ${order}`).all(after)
        : wo === null
          ? this.sql(`SELECT * FROM events WHERE project = ? AND seq > ? ${order}`).all(project, after)
          : this.sql(`SELECT * FROM events WHERE project = ? AND wo = ? AND seq > ? ${order}`).all(project, wo, after)
    ) as EventRow[];
    const events = rows.map(toEvent);
    return newest ? events.reverse() : events;
  }

  async eventsOfType(project: string, wo: number, type: LedgerEvent["type"], count: number): Promise<LedgerEvent[]> {
    const rows = this.sql(`SELECT * FROM events WHERE project = ? AND wo = ? AND type = ? ORDER BY seq DESC ${limit(count)}`).all(project, wo, type) as EventRow[];
    return rows.map(toEvent).reverse();
  }

  async recentEventsOfTypes(project: string, types: readonly LedgerEvent["type"][], since: string, count: number): Promise<LedgerEvent[]> {
    if (types.length === 0) return [];
    const rows = this.sql(`SELECT * FROM events WHERE project = ? AND type IN (${types.map(() => "?").join(", ")}) AND at >= ? ORDER BY seq DESC ${limit(count)}`).all(
      project,
      ...types,
      since,
    ) as EventRow[];
    return rows.map(toEvent).reverse();
  }

  async agentActivity(project: string, since: string): Promise<AgentActivity[]> {
    return this.sql(
      `WITH ev AS (SELECT agent, max(at) AS last_at, count(*) AS events FROM events WHERE project = @project AND at >= @since AND type <> 'expired' GROUP BY agent),
       tries AS (SELECT agent, count(*) AS attempts, sum(outcome = 'done') AS done, sum(outcome IN ('expired', 'lost')) AS lost
                 FROM attempts WHERE project = @project AND started_at >= @since GROUP BY agent),
       spent AS (SELECT agent, sum(coalesce(cost_micros, 0)) AS micros FROM spend WHERE project = @project AND created_at >= @since GROUP BY agent),
       claims AS (SELECT agent, json_extract(data, '$.ttl_ms') AS ttl_ms FROM events
                  WHERE seq IN (SELECT max(seq) FROM events WHERE project = @project AND type = 'claimed' AND at >= @since GROUP BY agent)),
       who AS (SELECT agent FROM ev UNION SELECT agent FROM tries UNION SELECT agent FROM spent)
       SELECT who.agent, ev.last_at, coalesce(ev.events, 0) AS events, coalesce(tries.attempts, 0) AS attempts, coalesce(tries.done, 0) AS done,
         coalesce(tries.lost, 0) AS lost, coalesce(spent.micros, 0) AS spend_micros, claims.ttl_ms
       FROM who LEFT JOIN ev USING (agent) LEFT JOIN tries USING (agent) LEFT JOIN spent USING (agent) LEFT JOIN claims USING (agent) ORDER BY who.agent`,
    ).all({ project, since }) as AgentActivity[];
  }

  async statusChanges(project: string, since: string, count: number): Promise<{ before: StatusChange[]; changes: StatusChange[] }> {
    const types = STATUS_EVENTS.map((t) => `'${t}'`).join(", ");
    // The WO's creation time only where it is needed (done): a join for every row cost more than the rest of the query.
    const rows = (where: string) =>
      this.sql(
        `SELECT wo, at, type, "to", CASE WHEN "to" = 'done' THEN (SELECT created_at FROM work_orders w WHERE w.project = @project AND w.id = c.wo) END AS created_at
         FROM (SELECT e.wo, CASE e.type WHEN 'expired' THEN coalesce(json_extract(e.data, '$.expires_at'), e.at) ELSE e.at END AS at, e.type,
                 CASE e.type WHEN 'created' THEN 'open' WHEN 'claimed' THEN 'claimed' WHEN 'status_changed' THEN json_extract(e.data, '$.to') ELSE json_extract(e.data, '$.status') END AS "to"
               FROM events e WHERE ${where}) c`,
      ).all({ project, since }) as StatusChange[];
    return {
      before: rows(`e.seq IN (SELECT max(seq) FROM events WHERE project = @project AND type IN (${types}) AND at < @since GROUP BY wo)`),
      changes: rows(`e.project = @project AND e.type IN (${types}) AND e.at >= @since ORDER BY e.seq ${limit(count)}`),
    };
  }

  // The newest event's time by seq (the primary key): max(at) read every event (the dashboard's first request, issue 28 item 7).
  async lastEventAt() {
    return (this.sql("SELECT at FROM events ORDER BY seq DESC LIMIT 1").get() as { at: string } | undefined)?.at ?? null;
  }

  async lastEventSeq(project: string | null) {
    const row =
      project === null
        ? this.sql("SELECT coalesce(max(seq), 0) AS seq FROM events").get()
        : this.sql("SELECT coalesce(max(seq), 0) AS seq FROM events WHERE project = ?").get(project);
    return (row as { seq: number }).seq;
  }

  async insertContext(entry: Omit<ContextEntry, "id">): Promise<ContextEntry> {
    const r = this.sql("INSERT INTO context (project, key, body, agent, wo, created_at, git) VALUES (@project, @key, @body, @agent, @wo, @created_at, @git) RETURNING id").get({
      ...entry,
      git: entry.git === null ? null : JSON.stringify(entry.git),
    }) as { id: number };
    return { id: r.id, ...entry };
  }

  async latestContext(project: string, key: string | null, wo: number | null) {
    // A WO's own entries are few (context_by_wo); the project's are found key by key (latestContextIds).
    const rows = (
      wo !== null
        ? this.sql(
            `SELECT c.* FROM context c
             JOIN (SELECT max(id) AS id FROM context WHERE project = @project AND (@key IS NULL OR key = @key) AND wo = @wo GROUP BY key) m ON m.id = c.id
             ORDER BY c.key, c.id DESC`,
          ).all({ project, key, wo })
        : this.sql(`SELECT * FROM context WHERE id IN (${latestContextIds("@project", "@key")}) ORDER BY key, id DESC`).all({ project, key })
    ) as ContextRow[];
    return rows.map(toContext);
  }

  async contextHistory(project: string, key: string | null, count: number, wo: number | null) {
    const rows = this.sql(`SELECT * FROM context WHERE project = @project AND (@key IS NULL OR key = @key) AND (@wo IS NULL OR wo = @wo) ORDER BY id DESC ${limit(count)}`).all({
      project,
      key,
      wo,
    }) as ContextRow[];
    return rows.map(toContext);
  }

  async contextPage(project: string, after: number, count: number) {
    const rows = this.sql(`SELECT * FROM context WHERE project = ? AND id > ? ORDER BY id ${limit(count)}`).all(project, after) as ContextRow[];
    return rows.map(toContext);
  }

  async getIdempotentWrite(project: string, agent: string, key: string) {
    const r = this.sql("SELECT project, agent, key, operation, request_hash, result, created_at FROM idempotent_writes WHERE project = ? AND agent = ? AND key = ?").get(
      project,
      agent,
      key,
    ) as IdempotentWrite | undefined;
    return r ?? null;
  }

  async putIdempotentWrite(w: IdempotentWrite) {
    this.sql(
      `INSERT INTO idempotent_writes (project, agent, key, operation, request_hash, result, created_at) VALUES (@project, @agent, @key, @operation, @request_hash, @result, @created_at)
       ON CONFLICT (project, agent, key) DO UPDATE SET operation = excluded.operation, request_hash = excluded.request_hash, result = excluded.result, created_at = excluded.created_at`,
    ).run(w);
  }

  async purgeIdempotentWrites(before: string, count: number) {
    this.sql(
      `DELETE FROM idempotent_writes WHERE (project, agent, key) IN (SELECT project, agent, key FROM idempotent_writes WHERE created_at < ? ORDER BY created_at ${limit(count)})`,
    ).run(before);
  }

  async prunable(project: string, before: string, count: number) {
    const rows = this.sql(
      `SELECT id FROM work_orders w WHERE project = ? AND status IN ('done', 'cancelled') AND updated_at < ?
         AND EXISTS (SELECT 1 FROM events e WHERE e.project = w.project AND e.wo = w.id) ORDER BY id ${limit(count)}`,
    ).all(project, before) as { id: number }[];
    return rows.map((r) => r.id);
  }

  async pruneHistory(project: string, ids: readonly number[]) {
    const del = (table: string) => this.sql(`DELETE FROM ${table} WHERE project = ? AND wo IN (SELECT value FROM json_each(?))`).run(project, JSON.stringify(ids)).changes;
    return { events: del("events"), notes: del("notes"), context: del("context"), spend: del("spend") };
  }

  async insertWebhook(w: Webhook) {
    this.sql(`INSERT INTO webhooks (${WEBHOOK_COLUMNS.join(", ")}) VALUES (${WEBHOOK_COLUMNS.map((c) => `@${c}`).join(", ")})`).run(webhookRow(w));
  }

  async getWebhook(id: string) {
    const row = this.sql("SELECT * FROM webhooks WHERE id = ?").get(id) as WebhookRow | undefined;
    return row === undefined ? null : toWebhook(row);
  }

  async listWebhooks() {
    return (this.sql("SELECT * FROM webhooks ORDER BY created_at, id").all() as WebhookRow[]).map(toWebhook);
  }

  async saveWebhook(w: Webhook) {
    this.sql(
      `UPDATE webhooks SET ${WEBHOOK_COLUMNS.filter((c) => c !== "id")
        .map((c) => `${c} = @${c}`)
        .join(", ")} WHERE id = @id`,
    ).run(webhookRow(w));
  }

  async deleteWebhook(id: string) {
    return this.sql("DELETE FROM webhooks WHERE id = ?").run(id).changes > 0;
  }

  async insertToken(t: TokenRecord) {
    this.sql("INSERT INTO tokens (id, agent, role, project, hash, created_at, revoked_at, can) VALUES (@id, @agent, @role, @project, @hash, @created_at, @revoked_at, @can)").run({
      ...t,
      can: t.can === null ? null : JSON.stringify(t.can),
    });
  }

  async findToken(hash: string) {
    const row = this.sql("SELECT * FROM tokens WHERE hash = ?").get(hash) as TokenRow | undefined;
    return row === undefined ? null : toToken(row);
  }

  async listTokens() {
    return (this.sql("SELECT * FROM tokens ORDER BY created_at, id").all() as TokenRow[]).map(toToken);
  }

  async revokeToken(id: string, at: string) {
    return this.sql("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id).changes > 0;
  }
}
