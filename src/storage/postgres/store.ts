/**
 * The PostgreSQL store, for teams and many machines: a pg.Pool, one pooled
 * client per transaction. Writes run at READ COMMITTED and get their
 * atomicity from row and advisory locks taken where the core reads what it
 * decides on (see tx.ts), rather than from one global write lock as on
 * SQLite, so writes to different WOs proceed in parallel. Time is the
 * database's clock, read once at the start of each transaction, so agents on
 * machines with drifting clocks still agree on when a lease expires.
 */
import pg from "pg";
import { LedgerError } from "../../core/errors.js";
import type { Store, StoreInfo, Tx } from "../../core/port.js";
import { schemaDrift } from "./schema-drift.js";
import { migrate } from "./migrate.js";
import { HostPools, parseHosts } from "./hosts.js";
import { ClockNotRead, PgTx } from "./tx.js";
import type { KeyedWrite, RuleOutcome, RuleTarget } from "../../core/port.js";
import type { RuleEnv, WriteRule } from "../../core/rule-data.js";
import type { NewEvent } from "../../core/types.js";
import { jsonToWorkOrder } from "./records.js";
import { statementName } from "./session.js";
import { idempotencyLockName, KEY_TAKEN, ruleStatement } from "./sql/compile.js";
import { IDEMPOTENCY_WINDOW_MS } from "../../core/idempotency.js";
import { queueFilter } from "./sql/work-orders.js";

interface RuleRow {
  verdict: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  data: Record<string, unknown> | null;
  at: string | null;
  events: number;
  has_context: boolean;
}

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** Schema holding the ledger (created if missing); default: the server's search_path. */
  schema?: string;
  /**
   * Test hook only: an injectable clock (ms since epoch) replacing the
   * database's now(). Production must leave it unset: time never comes from
   * the client.
   */
  clock?: () => number;
  /** Connections per process (default 10). */
  poolSize?: number;
}

const TIMESTAMPTZ = 1184;
const INT8 = 20;

const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ, "text") as (v: string) => Date;
const isoTimestamp = (v: string) => parseTimestamptz(v).toISOString();

/**
 * Rows come back in the shapes the SQLite adapter returns: times as ISO-8601
 * UTC with milliseconds (the same strings the core wrote), and bigint (seq,
 * ids, counts) as numbers; they stay far below 2^53. pg asks for the parsers
 * of every column of every result, so the same functions are handed out.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === TIMESTAMPTZ) return isoTimestamp;
    if (oid === INT8) return Number;
    return pg.types.getTypeParser(oid, format as "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

export async function openPostgresStore(opts: PostgresOptions): Promise<Store> {
  const location = redact(opts.connectionString) + (opts.schema === undefined ? "" : ` (schema ${opts.schema})`);
  const target = parseHosts(opts.connectionString);
  const pools = target.urls.map((connectionString) => {
    const pool = new pg.Pool({
      connectionString,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: target.connectTimeoutMs ?? 10_000,
      // A statement with no answer (the server or the network is gone without
      // a reset) fails after this instead of holding its request forever; the
      // URL's query_timeout overrides it.
      query_timeout: 30_000,
      idleTimeoutMillis: 10_000,
      // A CLI process must be able to exit even if a caller forgets close().
      allowExitOnIdle: true,
      application_name: "workledger",
      types,
      // Statements issued without waiting go out at once, so a transaction's
      // last writes and its COMMIT share one round trip (PgTx.commit). Every
      // other statement is still awaited before the next is sent.
      pipeline: true,
    });
    // An idle client that loses its connection emits 'error' on the pool; unhandled,
    // that would crash the process. The next query fails and is translated instead.
    pool.on("error", () => undefined);
    // Queued on each new connection before any query of ours (no extra round trip):
    // - the schema, so every statement sees it;
    // - our transactions never wait on the client for long, so one whose client
    //   vanished without a reset (a partition) must not hold its row locks until
    //   TCP gives up: the server ends it after 10 s idle.
    const setup = `SELECT set_config('idle_in_transaction_session_timeout', '10s', false)${opts.schema === undefined ? "" : ", set_config('search_path', $1, false)"}`;
    const values = opts.schema === undefined ? [] : [pg.escapeIdentifier(opts.schema)];
    pool.on("connect", (client) => void client.query(setup, values).catch(() => undefined));
    return pool;
  });
  const hosts = new HostPools(pools, target.labels, target.readWrite);
  try {
    const schema_version = await migrate(() => hosts.connect(), location, opts.schema);
    return new PostgresStore(hosts, { kind: "postgres", location, schema_version }, opts.clock);
  } catch (e) {
    await hosts.end().catch(() => undefined);
    throw translate(e, location, false);
  }
}

class PostgresStore implements Store {
  private closed = false;

  constructor(
    private readonly hosts: HostPools,
    readonly info: StoreInfo,
    private readonly clock: (() => number) | undefined,
  ) {}

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.run("BEGIN ISOLATION LEVEL READ COMMITTED", true, fn);
  }

  /** A pooled connection, or why there is none in the ledger's words. */
  private async checkout(): Promise<pg.PoolClient> {
    try {
      return await this.hosts.connect();
    } catch (e) {
      throw translate(e, this.info.location, false);
    }
  }

  /** One snapshot for the whole read, so e.g. a WO and its notes agree. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", false, fn);
  }

  private async run<T>(begin: string, writing: boolean, fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    let broken: Error | undefined;
    let committing = false;
    // A checked-out client whose connection dies between queries (e.g. the
    // server is shut down) emits 'error' on itself, not on the pool: record it,
    // so the client is destroyed on release and the next query reports it.
    let lost: Error | undefined;
    const onError = (e: Error) => {
      lost ??= e;
      broken ??= e;
    };
    client.on("error", onError);
    let tx: PgTx | undefined;
    const attempt = async (t: PgTx): Promise<T> => {
      tx = t;
      const out = await fn(t);
      committing = true;
      await t.commit();
      return out;
    };
    try {
      const testClock = this.clock ? new Date(this.clock()).toISOString() : undefined;
      try {
        // BEGIN and the clock read go out with the first statement (PgTx.start).
        return await attempt(new PgTx(client, testClock, writing, !this.clock, begin));
      } catch (e) {
        if (!(e instanceof ClockNotRead)) throw e;
      }
      // fn read the clock before its first statement (e.g. create stamps records
      // first). Nothing was written, and fn's only effects are through tx, so
      // end whatever was sent, read the clock first and run fn again.
      if (tx?.begun) await client.query("ROLLBACK");
      const again = new PgTx(client, undefined, writing, true, begin);
      await again.start();
      return await attempt(again);
    } catch (e) {
      if (tx?.begun !== false) await client.query("ROLLBACK").catch((re: unknown) => (broken = re instanceof Error ? re : new Error(String(re))));
      // After the connection died, every query fails with a generic "not queryable"; the cause says more.
      const out = translate(e instanceof LedgerError ? e : (lost ?? e), this.info.location, committing);
      // A connection to a server that stopped answering, or that turned read-only, is not reused.
      if (!(e instanceof LedgerError) && out instanceof LedgerError) broken ??= e instanceof Error ? e : new Error(String(e));
      throw out;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  /**
   * A rule in one autocommitted statement (sql/compile.ts): one round trip,
   * no BEGIN or COMMIT. Its text depends only on the rule and the filter's
   * shape, so each connection prepares it once.
   */
  async applyRule(rule: WriteRule, target: RuleTarget, args: RuleEnv["args"], keyed?: KeyedWrite): Promise<RuleOutcome> {
    const values: unknown[] = [target.project, "id" in target ? target.id : null, this.clock ? new Date(this.clock()).toISOString() : null];
    for (const [name, type] of Object.entries(rule.args)) {
      const v = args[name] ?? null;
      values.push(type === "boolean" && v !== null ? v === true : v);
    }
    if (keyed) values.push(idempotencyLockName(target.project, keyed.agent, keyed.key), keyed.key, keyed.operation, keyed.request_hash, IDEMPOTENCY_WINDOW_MS);
    const text =
      "id" in target
        ? ruleStatement(rule, { id: true, keyed: keyed !== undefined })
        : ruleStatement(rule, { next: true, keyed: keyed !== undefined, filter: queueFilter(target.next, (v) => (values.push(v), `$${values.length}`)) });
    const client = await this.checkout();
    let broken: Error | undefined;
    const onError = (e: Error) => (broken ??= e);
    client.on("error", onError);
    try {
      const [r] = (await client.query<RuleRow>({ name: statementName(text), text, values })).rows;
      const before = r?.before ? jsonToWorkOrder(r.before) : null;
      const after = r?.after ? jsonToWorkOrder(r.after) : null;
      const event: NewEvent | null =
        after && rule.event && r!.events > 0
          ? { project: after.project, wo: after.id, type: rule.event.type, agent: String(args.agent), revision: after.revision, at: r!.at!, data: r!.data! }
          : null;
      return { verdict: after ? "applied" : (r?.verdict ?? "none"), before, after, event, hasContext: r?.has_context ?? false };
    } catch (e) {
      // The key was used already: nothing was written, and the core answers from its record.
      if (keyed && e instanceof Error && e.message.includes(KEY_TAKEN)) return { verdict: "defer", before: null, after: null, event: null, hasContext: false };
      // Its own transaction: a connection lost before the answer leaves the outcome unknown, as a lost COMMIT does.
      const out = translate(e, this.info.location, true);
      if (!(e instanceof LedgerError) && out instanceof LedgerError) broken ??= e instanceof Error ? e : new Error(String(e));
      throw out;
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  /** Cheap consistency checks the schema's constraints do not cover (index-backed, no full scans). */
  integrity(): Promise<string[]> {
    return this.outsideTx(async (client) => {
      const problems: string[] = [];
      const fences = await client.query<{ project: string; id: number; lease_token: number | null; fence: number }>(
        "SELECT project, id, lease_token, fence FROM work_orders WHERE lease_expires_at IS NOT NULL AND (lease_token IS NULL OR lease_token > fence) ORDER BY project, id LIMIT 20",
      );
      for (const r of fences.rows) problems.push(`${r.project} WO-${r.id}: lease token ${r.lease_token ?? "null"} is not a token the fence (${r.fence}) handed out`);
      const ids = await client.query<{ name: string; next_id: number }>(
        "SELECT p.name, p.next_id FROM projects p WHERE EXISTS (SELECT 1 FROM work_orders w WHERE w.project = p.name AND w.id >= p.next_id) ORDER BY p.name LIMIT 20",
      );
      for (const r of ids.rows) problems.push(`project ${r.name}: next id ${r.next_id} is already taken by a work order`);
      return problems;
    });
  }

  schemaDrift(): Promise<string[]> {
    return this.outsideTx(schemaDrift);
  }

  /** `fn` on a pooled connection of its own (doctor's checks); a failure is said in the ledger's words and the connection destroyed. */
  private async outsideTx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    let failed: Error | undefined;
    try {
      client = await this.hosts.connect();
      return await fn(client);
    } catch (e) {
      failed = e instanceof Error ? e : new Error(String(e));
      throw translate(e, this.info.location, false);
    } finally {
      client?.release(failed);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.hosts.end();
  }
}

/**
 * The URL without its password, safe for messages, logs and `doctor`, in
 * every form a connection string takes: several hosts (`h1:5432,h2:5432`,
 * which URL parsers refuse), and passwords holding `:`, `@`, `/` or `%`. The
 * user information runs to the last `@` before the query; all of it after the
 * user's name goes, and so does a `password` parameter.
 */
export function redact(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  const query = rest.indexOf("?");
  const at = rest.lastIndexOf("@", query < 0 ? rest.length : query);
  const user = at < 0 ? "" : rest.slice(0, at).split(":")[0];
  const tail = at < 0 ? rest : `${user}@${rest.slice(at + 1)}`;
  return (scheme + tail).replace(/([?&]password=)[^&#]*/gi, "$1***");
}

const NET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** Server states an agent can only wait out or fix in configuration: shutdown, no room, wrong login or database. */
const PG_CODES: Record<string, string> = {
  "57P01": "the server closed the connection (shutdown or administrator command)",
  "57P02": "the server crashed",
  "57P03": "the server is starting up or cannot accept connections now",
  "25006": "the server is read-only (a standby, or a primary being demoted): no primary is reachable now",
  "53300": "the server has too many connections",
  "28000": "the login was rejected",
  "28P01": "the password was rejected",
  "3D000": "the database does not exist",
};
const LOST = /timeout exceeded when trying to connect|Connection terminated|connection error|not queryable|Query read timeout/i;

function codeOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  // Node 20 reports a failed connect to a host with several addresses as an AggregateError.
  const inner = (e as { errors?: unknown[] } | null)?.errors?.[0];
  return inner === undefined ? undefined : codeOf(inner);
}

/** Failures an agent can act on become UNAVAILABLE (exit 7); everything else is rethrown untouched. */
function translate(e: unknown, location: string, committing: boolean): unknown {
  if (e instanceof LedgerError || !(e instanceof Error)) return e;
  const code = codeOf(e);
  const net = code !== undefined && (NET_CODES.has(code) || code.startsWith("08"));
  const state = code === undefined ? undefined : PG_CODES[code];
  if (!net && state === undefined && !LOST.test(e.message)) return e;
  const config = code === "28000" || code === "28P01" || code === "3D000";
  const hint = config
    ? "check the user, password and database name in the database URL (WORKLEDGER_DATABASE_URL)"
    : code === "25006" && !committing
      ? "no writable primary right now (a failover takes seconds): retry shortly; with a standby, list every node in the URL with target_session_attrs=read-write"
      : committing
        ? "the connection dropped while committing, so the last write may or may not have been applied: check (get / history) before retrying"
        : "check that PostgreSQL is running and reachable at the database URL (WORKLEDGER_DATABASE_URL), then retry";
  return new LedgerError("UNAVAILABLE", `cannot use ledger ${location}: ${state ?? e.message}${code ? ` (${code})` : ""}`, {
    hint,
    details: { location, cause: code ?? e.message },
    cause: e,
  });
}
