/**
 * The storage port's operations as parameterised PostgreSQL statements, run on
 * the one pooled client that holds the transaction. Statements are named, so
 * each connection parses and plans a statement once.
 *
 * Locking is the adapter's whole job here; the rules stay in the core:
 * - in a write transaction a WO read by id is locked (FOR UPDATE): of N
 *   claimants exactly one wins, the rest wait, then see its lease;
 * - candidate lists (claimable, expiredLeases) skip rows another writer holds
 *   (FOR UPDATE SKIP LOCKED), so workers never queue behind each other and
 *   never get the same WO;
 * - read transactions (REPEATABLE READ READ ONLY) never lock.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type { ContextEntry, LedgerEvent, NewEvent, Note, ProjectSummary, StoredWorkOrder, TokenRecord } from "../../core/types.js";
import { STATUSES } from "../../core/types.js";
import type { ListQuery, Tx } from "../port.js";
import { toWorkOrder, WO_COLUMNS, woParams, type ContextRow, type EventRow, type NoteRow, type WorkOrderRow } from "./rows.js";

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
 * at insert time, not at commit, so without this a later seq could become
 * visible before an earlier one and a follower would skip the earlier event
 * for good. Holding the lock from the first append to commit makes seq order
 * commit order, as SQLite's single writer does. The cost: the append-to-commit
 * tails of concurrent writes run one at a time (a few round trips each).
 */
const EVENTS_LOCK_KEY = "8605364469904012916";

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
  private eventsLocked = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly at: string,
    /** A write transaction: reads that precede a change take row locks. */
    private readonly writing: boolean,
  ) {}

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
    const out = new Map<string, ProjectSummary>();
    for (const r of rows) {
      let p = out.get(r.name);
      if (!p) {
        p = { name: r.name, created_at: r.created_at, counts: Object.fromEntries(STATUSES.map((s) => [s, 0])) as ProjectSummary["counts"] };
        out.set(r.name, p);
      }
      if (r.status !== null) p.counts[r.status as keyof ProjectSummary["counts"]] = r.n;
    }
    return [...out.values()];
  }

  /** The UPDATE row-locks the project, so concurrent creates in one project take turns here and never share an id. */
  async allocateIds(project: string, count: number) {
    const [r] = await this.rows<{ first: number }>("UPDATE projects SET next_id = next_id + $2 WHERE name = $1 RETURNING next_id - $2 AS first", [project, count]);
    if (!r) throw new Error(`allocateIds: project ${project} does not exist`);
    return r.first;
  }

  async getWorkOrder(project: string, id: number) {
    const [r] = await this.rows<WorkOrderRow>("SELECT * FROM work_orders WHERE project = $1 AND id = $2" + this.lock("FOR UPDATE"), [project, id]);
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
    const rows = await this.rows<WorkOrderRow>(
      `SELECT * FROM work_orders w WHERE w.project = $1 AND w.status = 'open' AND ${DEPS_DONE}
       ORDER BY w.priority, w.id LIMIT $2 OFFSET $3` + this.lock("FOR UPDATE OF w SKIP LOCKED"),
      [project, limit, offset],
    );
    return rows.map(toWorkOrder);
  }

  async liveLeases(project: string, now: string) {
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
    if (events.length === 0) return;
    if (!this.eventsLocked) {
      await this.run("SELECT pg_advisory_xact_lock($1::bigint)", [EVENTS_LOCK_KEY]);
      this.eventsLocked = true;
    }
    for (const e of events) {
      await this.run("INSERT INTO events (project, wo, type, agent, revision, at, data) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
        e.project, e.wo, e.type, e.agent, e.revision, e.at, JSON.stringify(e.data),
      ]);
    }
  }

  async listEvents(project: string | null, wo: number | null, after: number, limit: number): Promise<LedgerEvent[]> {
    const cols = "SELECT seq, project, wo, type, agent, revision, at, data FROM events";
    return project === null
      ? this.rows<EventRow>(`${cols} WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit])
      : wo === null
        ? this.rows<EventRow>(`${cols} WHERE project = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [project, after, limit])
        : this.rows<EventRow>(`${cols} WHERE project = $1 AND wo = $2 AND seq > $3 ORDER BY seq LIMIT $4`, [project, wo, after, limit]);
  }

  async lastEventAt() {
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
