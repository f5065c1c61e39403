/**
 * The storage port's operations as parameterised PostgreSQL statements, run on
 * the one pooled client that holds the transaction. Statements are named, so
 * each connection parses and plans a statement once.
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
 * - events are inserted under a global lock right before COMMIT, so their
 *   sequence numbers become visible in order.
 * Read transactions (REPEATABLE READ READ ONLY) never lock.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type { ContextEntry, LedgerEvent, NewEvent, Note, ProjectSummary, StoredWorkOrder, TokenRecord } from "../../core/types.js";
import type { ListQuery, Tx } from "../port.js";
import { toWorkOrder, WO_COLUMNS, woParams, type ContextRow, type EventRow, type NoteRow, type WorkOrderRow } from "./rows.js";
import { foldProjectCounts } from "../rows.js";

const DEPS_DONE = `(cardinality(w.depends_on) = 0 OR NOT EXISTS (
  SELECT 1 FROM unnest(w.depends_on) AS d(id)
  LEFT JOIN work_orders x ON x.project = w.project AND x.id = d.id
  WHERE x.status IS DISTINCT FROM 'done'))`;

const INSERT_WO = `INSERT INTO work_orders (${WO_COLUMNS.join(", ")}) VALUES (${WO_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;
const UPDATE_WO = `UPDATE work_orders SET ${WO_COLUMNS.map((c, i) => [c, i] as const)
  .filter(([c]) => c !== "project" && c !== "id")
  .map(([c, i]) => `${c} = $${i + 1}`)
  .join(", ")} WHERE project = $1 AND id = $2`;

/**
 * Key of the lock that orders event appends ("wledgevt" as ASCII). Readers
 * follow the log by `seq > after` (watch, SSE). A sequence hands out numbers
 * at insert time, not at commit, so two writers could commit seq 11 before
 * seq 10, and a follower that already read 11 would never see 10. Taking this
 * lock right before inserting makes seq order commit order, as SQLite's
 * single writer does. To keep the serialised part short, appends are buffered
 * and written by flush() as the transaction's last statement, one INSERT that
 * also takes the lock, so the lock is held for one statement plus COMMIT.
 */
const EVENTS_LOCK_KEY = "8605364469904012916";
const INSERT_EVENTS = `WITH turn AS (SELECT pg_advisory_xact_lock($8::bigint))
  INSERT INTO events (project, wo, type, agent, revision, at, data)
  SELECT e.project, e.wo, e.type, e.agent, e.revision, e.at, e.data
  FROM turn, unnest($1::text[], $2::integer[], $3::text[], $4::text[], $5::integer[], $6::timestamptz[], $7::json[])
    WITH ORDINALITY AS e(project, wo, type, agent, revision, at, data, n)
  ORDER BY e.n`;

/** Lock class of the per-project lease-set locks ("wlls"); the two-int key space is apart from the bigint keys. */
const LEASES_LOCK_CLASS = 0x776c6c73;

const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = "wl_" + createHash("sha1").update(text).digest("hex").slice(0, 24);
    names.set(text, name);
  }
  return name;
}

export class PgTx implements Tx {
  /** Events appended but not yet written (see EVENTS_LOCK_KEY). */
  private readonly pending: NewEvent[] = [];

  constructor(
    private readonly client: pg.PoolClient,
    private at: string,
    /** A write transaction: reads that precede a change take row locks. */
    private readonly writing: boolean,
    /** Time is the database's (not a test clock): after waiting for a lock, read it again. */
    private readonly dbClock: boolean,
  ) {}

  /**
   * A write that waited for a row lock must judge expiry at the time it got
   * the lock, not when its transaction began, or it could renew a lease that
   * lapsed while it waited.
   */
  private locked<R extends { locked_at?: string }>(rows: R[]): R[] {
    const t = rows[0]?.locked_at;
    if (this.dbClock && t !== undefined && t > this.at) this.at = t;
    return rows;
  }

  private async rows<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>({ name: statementName(text), text, values })).rows;
  }

  private async run(text: string, values: unknown[] = []): Promise<number> {
    return (await this.client.query({ name: statementName(text), text, values })).rowCount ?? 0;
  }

  /** FOR UPDATE-style suffix, only inside write transactions (read-only ones may not lock). */
  private lock(clause: string): string {
    return this.writing ? ` ${clause}` : "";
  }

  now(): string {
    return this.at;
  }

  async getProject(name: string) {
    return (await this.rows<{ name: string; created_at: string }>("SELECT name, created_at FROM projects WHERE name = $1", [name]))[0] ?? null;
  }

  async insertProject(name: string, at: string) {
    await this.run("INSERT INTO projects (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, at]);
  }

  async listProjects(): Promise<ProjectSummary[]> {
    const rows = await this.rows<{ name: string; created_at: string; status: string | null; n: number }>(
      `SELECT p.name, p.created_at, w.status, count(w.id) AS n
       FROM projects p LEFT JOIN work_orders w ON w.project = p.name
       GROUP BY p.name, p.created_at, w.status ORDER BY p.name`,
    );
    return foldProjectCounts(rows);
  }

  /** The UPDATE row-locks the project, so concurrent creates in one project take turns here and never share an id. */
  async allocateIds(project: string, count: number) {
    const [r] = await this.rows<{ first: number }>("UPDATE projects SET next_id = next_id + $2 WHERE name = $1 RETURNING next_id - $2 AS first", [project, count]);
    if (!r) throw new Error(`allocateIds: project ${project} does not exist`);
    return r.first;
  }

  async getWorkOrder(project: string, id: number) {
    const [r] = this.locked(await this.rows<WorkOrderRow & { locked_at?: string }>(`SELECT *${this.writing ? ", clock_timestamp() AS locked_at" : ""} FROM work_orders WHERE project = $1 AND id = $2` + this.lock("FOR UPDATE"), [project, id]));
    return r ? toWorkOrder(r) : null;
  }

  async undoneOf(project: string, ids: readonly number[]) {
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
    await this.run(INSERT_WO, woParams(wo));
  }

  async saveWorkOrder(wo: StoredWorkOrder) {
    await this.run(UPDATE_WO, woParams(wo));
  }

  async listWorkOrders(q: ListQuery) {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    if (q.project !== undefined) where.push(`w.project = ${arg(q.project)}`);
    if (q.statuses) where.push(`w.status = ANY(${arg(q.statuses)}::text[])`);
    if (q.label !== undefined) where.push(`${arg(q.label)}::text = ANY(w.labels)`);
    if (q.agent !== undefined) where.push(`w.lease_agent = ${arg(q.agent)}`);
    const sql = `SELECT * FROM work_orders w ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY w.project, w.id LIMIT ${arg(q.limit)}`;
    return (await this.rows<WorkOrderRow>(sql, args)).map(toWorkOrder);
  }

  /**
   * In a write transaction (claim --next) the page is locked with SKIP LOCKED:
   * rows another claimant is looking at are passed over instead of waited for.
   * The core asks for pages of 50, so a claim briefly holds up to 50 rows; a
   * concurrent claim --next then takes the next free ones, not the same.
   */
  async claimable(project: string, limit: number, offset: number) {
    const rows = this.locked(
      await this.rows<WorkOrderRow & { locked_at?: string }>(
        `SELECT w.*${this.writing ? ", clock_timestamp() AS locked_at" : ""} FROM work_orders w WHERE w.project = $1 AND w.status = 'open' AND ${DEPS_DONE}
         ORDER BY w.priority, w.id LIMIT $2 OFFSET $3` + this.lock("FOR UPDATE OF w SKIP LOCKED"),
        [project, limit, offset],
      ),
    );
    return rows.map(toWorkOrder);
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
    const rows = await this.rows<WorkOrderRow>("SELECT * FROM work_orders WHERE lease_expires_at > $1 AND project = $2 ORDER BY id", [now, project]);
    return rows.map(toWorkOrder);
  }

  /** A lapsed lease another writer is already expiring is skipped, not waited for. */
  async expiredLeases(project: string | null, now: string, limit: number) {
    const rows = await this.rows<WorkOrderRow>(
      `SELECT * FROM work_orders WHERE lease_expires_at <= $1 AND ($2::text IS NULL OR project = $2)
       ORDER BY lease_expires_at, project, id LIMIT $3` + this.lock("FOR UPDATE SKIP LOCKED"),
      [now, project, limit],
    );
    return rows.map(toWorkOrder);
  }

  async insertNote(note: Omit<Note, "id">): Promise<Note> {
    const [r] = await this.rows<{ id: number }>(
      "INSERT INTO notes (project, wo, agent, kind, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
      [note.project, note.wo, note.agent, note.kind, note.body, note.created_at],
    );
    return { id: r!.id, ...note };
  }

  async listNotes(project: string, wo: number) {
    return this.rows<NoteRow>("SELECT id, project, wo, agent, kind, body, created_at FROM notes WHERE project = $1 AND wo = $2 ORDER BY id", [project, wo]);
  }

  async appendEvents(events: readonly NewEvent[]) {
    this.pending.push(...events);
  }

  /** Writes the buffered events; the store calls it just before COMMIT. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const es = this.pending.splice(0);
    await this.run(INSERT_EVENTS, [
      es.map((e) => e.project), es.map((e) => e.wo), es.map((e) => e.type), es.map((e) => e.agent),
      es.map((e) => e.revision), es.map((e) => e.at), es.map((e) => JSON.stringify(e.data)), EVENTS_LOCK_KEY,
    ]);
  }

  async listEvents(project: string | null, wo: number | null, after: number, limit: number): Promise<LedgerEvent[]> {
    await this.flush(); // a transaction sees its own appends
    const cols = "SELECT seq, project, wo, type, agent, revision, at, data FROM events";
    return project === null
      ? this.rows<EventRow>(`${cols} WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit])
      : wo === null
        ? this.rows<EventRow>(`${cols} WHERE project = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [project, after, limit])
        : this.rows<EventRow>(`${cols} WHERE project = $1 AND wo = $2 AND seq > $3 ORDER BY seq LIMIT $4`, [project, wo, after, limit]);
  }

  async lastEventSeq(project: string | null) {
    await this.flush();
    return (await this.rows<{ seq: number }>("SELECT coalesce(max(seq), 0) AS seq FROM events WHERE $1::text IS NULL OR project = $1", [project]))[0]?.seq ?? 0;
  }

  async lastEventAt() {
    await this.flush();
    return (await this.rows<{ at: string | null }>("SELECT max(at) AS at FROM events"))[0]?.at ?? null;
  }

  async insertContext(entry: Omit<ContextEntry, "id">): Promise<ContextEntry> {
    const [r] = await this.rows<{ id: number }>(
      "INSERT INTO context (project, key, body, agent, wo, created_at, git) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
      [entry.project, entry.key, entry.body, entry.agent, entry.wo, entry.created_at, entry.git === null ? null : JSON.stringify(entry.git)],
    );
    return { id: r!.id, ...entry };
  }

  async latestContext(project: string, key: string | null) {
    return this.rows<ContextRow>(
      `SELECT c.id, c.project, c.key, c.body, c.agent, c.wo, c.created_at, c.git FROM context c
       JOIN (SELECT max(id) AS id FROM context WHERE project = $1 AND ($2::text IS NULL OR key = $2) GROUP BY key) m ON m.id = c.id
       ORDER BY c.key`,
      [project, key],
    );
  }

  async contextHistory(project: string, key: string | null, limit: number) {
    return this.rows<ContextRow>(
      `SELECT id, project, key, body, agent, wo, created_at, git FROM context
       WHERE project = $1 AND ($2::text IS NULL OR key = $2) ORDER BY id DESC LIMIT $3`,
      [project, key, limit],
    );
  }

  /**
   * In a write transaction the project row is locked first (the lock the id
   * allocation takes anyway), so a concurrent retry with the same key waits
   * for the first to commit and then finds its ids, instead of both creating.
   */
  async getIdempotency(project: string, key: string) {
    if (this.writing) await this.run("SELECT 1 FROM projects WHERE name = $1 FOR NO KEY UPDATE", [project]);
    const [r] = await this.rows<{ request_hash: string; ids: number[] }>("SELECT request_hash, ids FROM idempotency WHERE project = $1 AND key = $2", [project, key]);
    return r ?? null;
  }

  async putIdempotency(project: string, key: string, requestHash: string, ids: readonly number[], at: string) {
    await this.run("INSERT INTO idempotency (project, key, request_hash, ids, created_at) VALUES ($1, $2, $3, $4, $5)", [project, key, requestHash, ids, at]);
  }

  async insertToken(t: TokenRecord) {
    await this.run("INSERT INTO tokens (id, agent, role, project, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
      t.id, t.agent, t.role, t.project, t.hash, t.created_at, t.revoked_at,
    ]);
  }

  async findToken(hash: string) {
    return (await this.rows<TokenRecord>("SELECT id, agent, role, project, hash, created_at, revoked_at FROM tokens WHERE hash = $1", [hash]))[0] ?? null;
  }

  async listTokens() {
    return this.rows<TokenRecord>("SELECT id, agent, role, project, hash, created_at, revoked_at FROM tokens ORDER BY created_at, id");
  }

  async revokeToken(id: string, at: string) {
    return (await this.run("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [id, at])) > 0;
  }
}
