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
 * - events take no lock at all: they carry an ordering key that lets
 *   followers read them gap-free without serialising commits (below).
 * Read transactions (REPEATABLE READ READ ONLY) never lock.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { QUEUE_ORDER, type ContextEntry, type LedgerEvent, type NewEvent, type Note, type ProjectPolicy, type ProjectSummary, type StoredWorkOrder, type TokenRecord } from "../../core/types.js";
import type { ClaimProbe, ListQuery, Tx } from "../../core/port.js";
import { jsonToWorkOrder, WO_COLUMNS, woJson, type ContextRow, type EventRow, type NoteRow } from "./records.js";
import { foldProjectCounts, toProject, type ProjectRow } from "../work-order-row.js";

const DEPS_DONE = `(cardinality(w.depends_on) = 0 OR NOT EXISTS (
  SELECT 1 FROM unnest(w.depends_on) AS d(id)
  LEFT JOIN work_orders x ON x.project = w.project AND x.id = d.id
  WHERE x.status IS DISTINCT FROM 'done'))`;

/** The open queue in claim order, for the project in parameter `p`. */
const queue = (p: string) => `FROM work_orders w WHERE w.project = ${p} AND w.status = 'open' AND ${DEPS_DONE} ORDER BY ${QUEUE_ORDER}`;
/**
 * Lapsed leases: $1 the transaction's clock, or null as a first statement,
 * when its answer is still on the way (start()) and now() is the same
 * transaction start time; $2 the project (null: all); $3 the limit.
 */
const LAPSED = `FROM work_orders w WHERE w.lease_expires_at <= coalesce($1::timestamptz, now()) AND ($2::text IS NULL OR w.project = $2)
  ORDER BY w.lease_expires_at, w.project, w.id LIMIT $3`;
/** claimProbe in one statement; it always returns a row, whose `found` says whether the project exists. */
const CLAIM_PROBE = `WITH lapsed AS (SELECT w.* ${LAPSED} FOR UPDATE SKIP LOCKED),
  first AS (SELECT w.*, clock_timestamp() AS locked_at ${queue("$2")} LIMIT 1 FOR UPDATE OF w SKIP LOCKED)
  SELECT p.found, r.* FROM (SELECT EXISTS (SELECT 1 FROM projects WHERE name = $2) AS found) p
  LEFT JOIN (SELECT 'lapsed' AS probe, to_json(lapsed) AS wo, NULL::timestamptz AS locked_at FROM lapsed UNION ALL SELECT 'first', to_json(first), first.locked_at FROM first) r ON true`;
/** Work orders are selected as one JSON column (see jsonToWorkOrder). */
const WO_JSON = "to_json(w) AS wo";

/**
 * A WO goes to the server as one JSON parameter (woJson), spread into a row of
 * the table's type by json_populate_record: JSON.stringify is native, where
 * pg prepared 25 parameters one by one and escaped four arrays element by
 * element. PostgreSQL turns JSON arrays into the array columns.
 */
const WO_RECORD = (p: number) => `json_populate_record(NULL::work_orders, $${p}::json)`;
const INSERT_WO = `INSERT INTO work_orders (${WO_COLUMNS.join(", ")}) SELECT ${WO_COLUMNS.join(", ")} FROM ${WO_RECORD(1)}`;
const SET_COLUMNS = WO_COLUMNS.filter((c) => c !== "project" && c !== "id");
const UPDATE_WO = `UPDATE work_orders w SET (${SET_COLUMNS.join(", ")}) = (${SET_COLUMNS.map((c) => `r.${c}`).join(", ")})
  FROM ${WO_RECORD(1)} r WHERE w.project = r.project AND w.id = r.id`;

/**
 * Event order. `seq` comes from a sequence at insert time, so without a lock
 * concurrent writers make seq 11 visible before seq 10, and a follower reading
 * `seq > after` that has passed 11 would never see 10. Until schema v3 a
 * global advisory lock held to COMMIT prevented that, at the price of one
 * commit (one fsync) at a time in the whole database.
 *
 * Now every event records order_xid = greatest(own xid, xmax of the snapshot
 * taken when the events are written), and followers (followEvents) read in
 * (order_xid, seq) order, only events with order_xid below the xmin of their
 * snapshot (the oldest transaction id still running):
 * - gap-free: an event with order_xid < xmin was written by a transaction
 *   whose id is below xmin, so it has finished and the follower sees all of
 *   it; a transaction still running or not yet started writes order_xid >=
 *   xmin, i.e. after everything a follower has been given;
 * - causal: a writer that waited for another's lock, or read what it
 *   committed, writes its events in a later statement, whose snapshot xmax is
 *   at least as high and whose seq is higher, so it sorts after the other.
 * The price: followers see an event only once every transaction that began
 * writing before it committed has ended (usually milliseconds; a long write
 * transaction anywhere on the server holds them back until it ends), and seq
 * is not monotonic along the stream, so a follower resumes from the seq of the
 * last event it received (followEvents maps it back to its position).
 */
const insertEvents = (p: number) => `INSERT INTO events (project, wo, type, agent, revision, at, data, order_xid)
  SELECT e.project, e.wo, e.type, e.agent, e.revision, e.at, e.data, greatest(pg_current_xact_id(), pg_snapshot_xmax(pg_current_snapshot()))
  FROM ROWS FROM (json_to_recordset($${p + 1}::json) AS (project text, wo integer, type text, agent text, revision integer, at timestamptz, data json))
    WITH ORDINALITY AS e(project, wo, type, agent, revision, at, data, n)
  ORDER BY e.n`;
const INSERT_EVENTS = insertEvents(0);
/** A WO's new state and its events in one round trip (a data-modifying CTE always runs). */
const SAVE_WITH_EVENTS = `WITH saved AS (${UPDATE_WO}) ${insertEvents(1)}`;

/** The stream position of a cursor: the order key of the event with that seq (or the last one before it). */
const CURSOR = `(SELECT coalesce((SELECT order_xid FROM events WHERE seq <= $1 ORDER BY seq DESC LIMIT 1), '0'::xid8))`;
const EVENT_COLUMNS = "seq, project, wo, type, agent, revision, at, data";
const SETTLED = "order_xid < pg_snapshot_xmin(pg_current_snapshot())";

/** Lock class of the per-project lease-set locks ("wlls"); the two-int key space is apart from the bigint keys. */
const LEASES_LOCK_CLASS = 0x776c6c73;

/**
 * now() was called before the transaction's first statement, so the database
 * clock has not been read yet. The store then begins the transaction the
 * plain way and runs the function again (see store.ts).
 */
export class ClockNotRead extends Error {
  constructor() {
    super("the transaction's clock was read before its first statement");
  }
}

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
  /**
   * Writes held back so that a WO's new state and its events go to the server
   * in one statement, usually the last before COMMIT: a claim or a completion
   * then costs one round trip fewer. Any other statement writes them first
   * (flush), so every read still sees the transaction's earlier writes.
   */
  private readonly pending: NewEvent[] = [];
  /** Latest full state per WO (a later save of the same WO replaces an earlier one: saves write every column). */
  private readonly pendingSaves = new Map<string, StoredWorkOrder>();

  private corked = false;

  /** BEGIN (and the clock read) sent, answer pending or received; see start(). */
  private started: Promise<void> | undefined;

  constructor(
    private readonly client: pg.PoolClient,
    /** Undefined until the database's clock has been read (see start()). */
    private at: string | undefined,
    /** A write transaction: reads that precede a change take row locks. */
    private readonly writing: boolean,
    /** Time is the database's (not a test clock): after waiting for a lock, read it again. */
    private readonly dbClock: boolean,
    /** The BEGIN statement to send with the first statement; undefined when the caller already began the transaction. */
    private readonly begin?: string,
  ) {
    if (begin === undefined) this.started = Promise.resolve();
  }

  /**
   * Statements sent in the same turn of the event loop (e.g. reads the core
   * asks for together, or the last writes and COMMIT) leave in one socket
   * write instead of one each: on this kind of machine the system calls were
   * the largest single cost of a statement on the client.
   */
  private batch(): void {
    if (this.corked) return;
    const stream = this.client.connection.stream;
    stream.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      stream.uncork();
    });
  }

  /** Whether anything has been sent, i.e. there is a transaction to end. */
  get begun(): boolean {
    return this.started !== undefined;
  }

  /**
   * Sends BEGIN, and the clock read unless a test clock is set, pipelined with
   * the transaction's first statement: one round trip for both. The answers
   * come back in order, so `at` is set before the first statement's result
   * is seen. The store calls it alone when the clock is needed first.
   */
  start(): Promise<void> {
    if (this.started) return this.started;
    const begin = this.begin!;
    this.batch();
    this.started = this.dbClock
      ? (this.client.query(`${begin}; SELECT now() AS now`) as unknown as Promise<pg.QueryResult<{ now: string }>[]>).then((results) => {
          this.at = results[1]!.rows[0]!.now;
        })
      : this.client.query(begin).then(() => undefined);
    return this.started;
  }

  /**
   * A write that waited for a row lock must judge expiry at the time it got
   * the lock, not when its transaction began, or it could renew a lease that
   * lapsed while it waited.
   */
  private locked<R extends { locked_at?: string }>(rows: R[]): R[] {
    const t = rows[0]?.locked_at;
    if (this.dbClock && t !== undefined && this.at !== undefined && t > this.at) this.at = t;
    return rows;
  }

  /** Work orders selected as WO_JSON (plus locked_at, when they were locked). */
  private async workOrders(text: string, values: unknown[]): Promise<StoredWorkOrder[]> {
    return this.locked(await this.rows<{ wo: Record<string, unknown>; locked_at?: string }>(text, values)).map((r) => jsonToWorkOrder(r.wo));
  }

  private async rows<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.statement<R>(text, values)).rows;
  }

  private async run(text: string, values: unknown[] = []): Promise<number> {
    return (await this.statement(text, values)).rowCount ?? 0;
  }

  /** One statement, after the held-back writes. */
  private async statement<R extends object>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    await this.flush();
    return this.send<R>(text, values);
  }

  /** Sends a statement after BEGIN (pipelined with it when first), in this tick's write. */
  private async send<R extends object>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const started = this.start();
    this.batch();
    const [, result] = await Promise.all([started, this.client.query<R>({ name: statementName(text), text, values })]);
    return result;
  }

  /** FOR UPDATE-style suffix, only inside write transactions (read-only ones may not lock). */
  private lock(clause: string): string {
    return this.writing ? ` ${clause}` : "";
  }

  now(): string {
    if (this.at === undefined) throw new ClockNotRead();
    return this.at;
  }

  async getProject(name: string) {
    const [r] = await this.rows<ProjectRow>("SELECT name, created_at, verification_authors FROM projects WHERE name = $1", [name]);
    return r ? toProject(r) : null;
  }

  async setProjectPolicy(name: string, policy: ProjectPolicy) {
    await this.run("UPDATE projects SET verification_authors = $2 WHERE name = $1", [name, policy.verification_authors]);
  }

  async insertProject(name: string, at: string) {
    await this.run("INSERT INTO projects (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [name, at]);
  }

  async listProjects(): Promise<ProjectSummary[]> {
    const rows = await this.rows<ProjectRow & { status: string | null; n: number }>(
      `SELECT p.name, p.created_at, p.verification_authors, w.status, count(w.id) AS n
       FROM projects p LEFT JOIN work_orders w ON w.project = p.name
       GROUP BY p.name, p.created_at, p.verification_authors, w.status ORDER BY p.name`,
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
    const [wo] = await this.workOrders(`SELECT ${WO_JSON}${this.writing ? ", clock_timestamp() AS locked_at" : ""} FROM work_orders w WHERE w.project = $1 AND w.id = $2` + this.lock("FOR UPDATE"), [project, id]);
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

  async saveWorkOrder(wo: StoredWorkOrder) {
    this.pendingSaves.set(`${wo.project}\0${wo.id}`, wo);
  }

  /** In one project with a status filter: one index range per status, merged (as on SQLite). */
  async listWorkOrders(q: ListQuery) {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => (args.push(v), `$${args.length}`);
    const limit = arg(q.limit);
    if (q.label !== undefined) where.push(`${arg(q.label)}::text = ANY(w.labels)`);
    if (q.agent !== undefined) where.push(`w.lease_agent = ${arg(q.agent)}`);
    if (q.project !== undefined && q.statuses) {
      const project = arg(q.project);
      const one = (status: string) => `(SELECT w.id, ${WO_JSON} FROM work_orders w WHERE ${[`w.project = ${project}`, `w.status = ${arg(status)}`, ...where].join(" AND ")} ORDER BY w.id LIMIT ${limit})`;
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
  async claimable(project: string, limit: number, offset: number) {
    return this.workOrders(`SELECT ${WO_JSON}${this.writing ? ", clock_timestamp() AS locked_at" : ""} ${queue("$1")} LIMIT $2 OFFSET $3` + this.lock("FOR UPDATE OF w SKIP LOCKED"), [project, limit, offset]);
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
  async claimProbe(project: string, limit: number): Promise<ClaimProbe> {
    const rows = await this.rows<{ found: boolean; probe: "lapsed" | "first" | null; wo: Record<string, unknown>; locked_at?: string }>(CLAIM_PROBE, [this.at ?? null, project, limit]);
    const [first] = this.locked(rows.filter((r) => r.probe === "first"));
    return { exists: rows[0]?.found === true, lapsed: rows.filter((r) => r.probe === "lapsed").map((r) => jsonToWorkOrder(r.wo)), first: first ? jsonToWorkOrder(first.wo) : null };
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

  /** Writes what is held back (see `pending`) before another statement. */
  async flush(): Promise<void> {
    await Promise.all(this.sendHeldBack());
  }

  /**
   * Writes what is held back and commits, in one round trip: the pool's
   * clients pipeline (store.ts), so the statements and COMMIT go out together
   * and the answers come back in order. If a statement fails, the server turns
   * the COMMIT into a rollback, and the failure is what this rejects with.
   */
  async commit(): Promise<void> {
    if (!this.begun) return; // nothing was sent, so there is no transaction
    const sent = this.sendHeldBack();
    this.batch();
    sent.push(this.client.query("COMMIT").then(() => undefined));
    await Promise.all(sent);
  }

  /** Sends the held-back writes without waiting for their answers. */
  private sendHeldBack(): Promise<unknown>[] {
    if (this.pending.length === 0 && this.pendingSaves.size === 0) return [];
    const saves = [...this.pendingSaves.values()];
    this.pendingSaves.clear();
    const es = this.pending.splice(0);
    const last = saves.pop();
    const sent = saves.map((wo) => this.send(UPDATE_WO, [woJson(wo)]));
    // One JSON text (JSON.stringify is native) instead of seven arrays that pg escapes element by element.
    const events = es.length === 0 ? [] : [JSON.stringify(es)];
    if (last === undefined) sent.push(this.send(INSERT_EVENTS, events));
    else if (es.length === 0) sent.push(this.send(UPDATE_WO, [woJson(last)]));
    else sent.push(this.send(SAVE_WITH_EVENTS, [woJson(last), ...events]));
    return sent;
  }

  async listEvents(project: string | null, wo: number | null, after: number, limit: number): Promise<LedgerEvent[]> {
    const cols = "SELECT seq, project, wo, type, agent, revision, at, data FROM events";
    return project === null
      ? this.rows<EventRow>(`${cols} WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit])
      : wo === null
        ? this.rows<EventRow>(`${cols} WHERE project = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [project, after, limit])
        : this.rows<EventRow>(`${cols} WHERE project = $1 AND wo = $2 AND seq > $3 ORDER BY seq LIMIT $4`, [project, wo, after, limit]);
  }

  /** The follower's read (see "Event order"): settled events after the cursor's position, in stream order. */
  async followEvents(project: string | null, after: number, limit: number): Promise<LedgerEvent[]> {
    return project === null
      ? this.rows<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE (order_xid, seq) > (${CURSOR}, $1) AND ${SETTLED} ORDER BY order_xid, seq LIMIT $2`, [after, limit])
      : this.rows<EventRow>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE project = $3 AND (order_xid, seq) > (${CURSOR}, $1) AND ${SETTLED} ORDER BY order_xid, seq LIMIT $2`,
          [after, limit, project],
        );
  }

  /** "Now" for a follower: the last settled event in stream order, so nothing after it has been delivered yet. */
  async lastEventSeq(project: string | null) {
    const rows =
      project === null
        ? await this.rows<{ seq: number }>(`SELECT seq FROM events WHERE ${SETTLED} ORDER BY order_xid DESC, seq DESC LIMIT 1`)
        : await this.rows<{ seq: number }>(`SELECT seq FROM events WHERE project = $1 AND ${SETTLED} ORDER BY order_xid DESC, seq DESC LIMIT 1`, [project]);
    return rows[0]?.seq ?? 0;
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
