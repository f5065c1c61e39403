/**
 * The pipelined session a PostgreSQL transaction runs on: one pooled client,
 * BEGIN and the clock read sent with the first statement, statements of one
 * event-loop turn in one socket write, and a WO's new state and its events
 * held back to go out with COMMIT. Statements are named, so each connection
 * parses and plans a statement once. The port's operations are in tx.ts.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import type { IdempotentWrite } from "../../core/port.js";
import type { Attempt, NewEvent, StoredWorkOrder } from "../../core/types.js";
import { jsonToWorkOrder, woJson } from "./records.js";
import { INSERT_EVENTS, SAVE_WITH_EVENTS, SAVE_WITH_EVENTS_AND_ATTEMPTS } from "./sql/events.js";
import { SAVE_ATTEMPTS, UPDATE_WO } from "./sql/work-orders.js";

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
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = "wl_" + createHash("sha1").update(text).digest("hex").slice(0, 24);
    names.set(text, name);
  }
  return name;
}

export class PgSession {
  /**
   * Writes held back so that a WO's new state and its events go to the server
   * in one statement, usually the last before COMMIT: a claim or a completion
   * then costs one round trip fewer. Any other statement writes them first
   * (flush), so every read still sees the transaction's earlier writes.
   */
  protected readonly pending: NewEvent[] = [];
  /** Latest full state per WO (a later save of the same WO replaces an earlier one: saves write every column). */
  protected readonly pendingSaves = new Map<string, StoredWorkOrder>();
  /** An idempotency record and the purge of expired ones (idempotency.ts), written with the rest, purge first. */
  protected readonly pendingIdempotent: { put?: IdempotentWrite; purge?: [before: string, limit: number] } = {};
  /** Attempts opened or ended (a claim's, a release's), written with the rest: one more statement in the same round trip. */
  protected readonly pendingAttempts = new Map<string, Attempt>();

  private corked = false;

  /** BEGIN (and the clock read) sent, answer pending or received; see start(). */
  private started: Promise<void> | undefined;

  constructor(
    private readonly client: pg.PoolClient,
    /** Undefined until the database's clock has been read (see start()). */
    protected at: string | undefined,
    /** A write transaction: reads that precede a change take row locks. */
    protected readonly writing: boolean,
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
  protected locked<R extends { locked_at?: string }>(rows: R[]): R[] {
    const t = rows[0]?.locked_at;
    if (this.dbClock && t !== undefined && this.at !== undefined && t > this.at) this.at = t;
    return rows;
  }

  /** Work orders selected as WO_JSON (plus locked_at, when they were locked). */
  protected async workOrders(text: string, values: unknown[]): Promise<StoredWorkOrder[]> {
    return this.locked(await this.rows<{ wo: Record<string, unknown>; locked_at?: string }>(text, values)).map((r) => jsonToWorkOrder(r.wo));
  }

  protected async rows<R extends object>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.statement<R>(text, values)).rows;
  }

  protected async run(text: string, values: unknown[] = []): Promise<number> {
    return (await this.statement(text, values)).rowCount ?? 0;
  }

  /** One statement, after the held-back writes. */
  protected async statement<R extends object>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    await this.flush();
    return this.send<R>(text, values);
  }

  /** Sends a statement after BEGIN (pipelined with it when first), in this tick's write. */
  protected async send<R extends object>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    const started = this.start();
    this.batch();
    const [, result] = await Promise.all([started, this.client.query<R>({ name: statementName(text), text, values })]);
    return result;
  }

  /** FOR UPDATE-style suffix, only inside write transactions (read-only ones may not lock). */
  protected lock(clause: string): string {
    return this.writing ? ` ${clause}` : "";
  }

  now(): string {
    if (this.at === undefined) throw new ClockNotRead();
    return this.at;
  }

  async saveWorkOrder(wo: StoredWorkOrder) {
    this.pendingSaves.set(`${wo.project}\0${wo.id}`, wo);
  }

  async appendEvents(events: readonly NewEvent[]) {
    this.pending.push(...events);
  }

  async putIdempotentWrite(w: IdempotentWrite) {
    this.pendingIdempotent.put = w;
  }

  /** Rows another writer is deleting are skipped, not waited for. */
  async purgeIdempotentWrites(before: string, limit: number) {
    this.pendingIdempotent.purge = [before, limit];
  }

  async saveAttempt(a: Attempt) {
    // One row per attempt per statement (ON CONFLICT cannot touch a row twice): the later state wins.
    this.pendingAttempts.set(`${a.project}\0${a.wo}\0${a.token}`, a);
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
    if (this.pending.length === 0 && this.pendingSaves.size === 0 && this.pendingAttempts.size === 0 && !this.pendingIdempotent.put && !this.pendingIdempotent.purge) return [];
    const saves = [...this.pendingSaves.values()];
    this.pendingSaves.clear();
    const es = this.pending.splice(0);
    const last = saves.pop();
    const sent = saves.map((wo) => this.send(UPDATE_WO, [woJson(wo)]));
    // One JSON text (JSON.stringify is native) instead of seven arrays that pg escapes element by element.
    const events = es.length === 0 ? [] : [JSON.stringify(es)];
    const attempts = this.pendingAttempts.size ? JSON.stringify([...this.pendingAttempts.values()]) : null;
    this.pendingAttempts.clear();
    if (last !== undefined && es.length && attempts !== null) sent.push(this.send(SAVE_WITH_EVENTS_AND_ATTEMPTS, [woJson(last), ...events, attempts]));
    else {
      if (last === undefined) {
        if (es.length) sent.push(this.send(INSERT_EVENTS, events));
      } else if (es.length === 0) sent.push(this.send(UPDATE_WO, [woJson(last)]));
      else sent.push(this.send(SAVE_WITH_EVENTS, [woJson(last), ...events]));
      if (attempts !== null) sent.push(this.send(SAVE_ATTEMPTS, [attempts]));
    }
    const { put, purge } = this.pendingIdempotent;
    if (purge) sent.push(this.send(PURGE_IDEMPOTENT, purge));
    if (put) sent.push(this.send(PUT_IDEMPOTENT, [put.project, put.agent, put.key, put.operation, put.request_hash, put.result, put.created_at]));
    delete this.pendingIdempotent.put;
    delete this.pendingIdempotent.purge;
    return sent;
  }
}

const PUT_IDEMPOTENT = `INSERT INTO idempotent_writes (project, agent, key, operation, request_hash, result, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (project, agent, key) DO UPDATE SET operation = excluded.operation, request_hash = excluded.request_hash, result = excluded.result, created_at = excluded.created_at`;
const PURGE_IDEMPOTENT = `DELETE FROM idempotent_writes WHERE ctid IN
  (SELECT ctid FROM idempotent_writes WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`;
