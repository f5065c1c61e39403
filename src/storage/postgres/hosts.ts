/**
 * Several PostgreSQL hosts behind one URL, as libpq writes them and as
 * `pg_autoctl show uri` prints them for a pg_auto_failover formation:
 *
 *   postgres://user@node1:5432,node2:5432/db?target_session_attrs=read-write
 *
 * node-postgres connects to one host only, so the store keeps one pool per
 * host and takes connections from the first host that accepts one (starting
 * with the one that did last time). With target_session_attrs=read-write (the
 * default when there are several hosts: the ledger writes) a new connection
 * that lands on a standby, or on a primary that is being demoted, is closed
 * and the next host is tried; while no host is writable the store answers
 * UNAVAILABLE, which clients retry.
 */
import pg from "pg";
import { LedgerError } from "../../core/errors.js";

export interface HostTarget {
  /** One single-host URL per host, in the order given. */
  urls: string[];
  /** host:port as written, for messages. */
  labels: string[];
  /** Refuse sessions on servers that are read-only (standbys). */
  readWrite: boolean;
  /** libpq's connect_timeout (seconds) as ms, per host; undefined when not given. */
  connectTimeoutMs?: number;
}

const URL_PARTS = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(.*)$/i;
const ATTRS = new Map([
  ["read-write", true],
  ["primary", true],
  ["any", false],
]);

export function parseHosts(url: string): HostTarget {
  const m = URL_PARTS.exec(url);
  if (!m) return { urls: [url], labels: ["database"], readWrite: false }; // not a URL (e.g. key=value): pg reports what is wrong with it
  const [, scheme, user, hostList, rest] = m as unknown as [string, string, string | undefined, string, string];
  const hosts = hostList.split(",");
  const [path, query = ""] = splitOnce(rest, "?");
  const params = new URLSearchParams(query);
  const attrs = params.get("target_session_attrs");
  if (attrs !== null && !ATTRS.has(attrs))
    throw new LedgerError("VALIDATION", `target_session_attrs=${attrs} is not supported`, { hint: "use read-write (the default with several hosts), primary or any" });
  params.delete("target_session_attrs");
  const timeout = params.get("connect_timeout");
  const connectTimeoutMs = timeout === null ? undefined : Number(timeout) * 1000;
  if (connectTimeoutMs !== undefined && !(Number.isInteger(connectTimeoutMs) && connectTimeoutMs > 0))
    throw new LedgerError("VALIDATION", `connect_timeout=${timeout} is not a whole number of seconds above 0`);
  params.delete("connect_timeout");
  // node-postgres treats sslmode=prefer as verify-full and cannot fall back to
  // plain TCP as libpq does; pg_autoctl prints prefer for --no-ssl formations.
  if (params.get("sslmode") === "prefer" || params.get("sslmode") === "allow") params.delete("sslmode");
  const q = params.toString();
  const urls = hosts.map((h) => `${scheme}${user === undefined ? "" : user + "@"}${h}${path}${q ? "?" + q : ""}`);
  return { urls, labels: hosts, readWrite: attrs === null ? hosts.length > 1 : ATTRS.get(attrs)!, ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }) };
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

/** A connection refused because the server is read-only; the store tries the next host. */
export class ReadOnlyServer extends Error {
  /** SQLSTATE read_only_sql_transaction, so it is translated like a write refused by a standby. */
  readonly code = "25006";
  constructor() {
    super("the server is read-only (a standby, or a primary being demoted)");
  }
}

/** One pool per host; connections come from the first host that gives one, starting with the last that did. */
export class HostPools {
  private current = 0;
  /** Connections already handed out once (guarded, and found writable when that is asked). */
  private readonly seen = new WeakSet<pg.PoolClient>();

  constructor(
    readonly pools: pg.Pool[],
    private readonly labels: string[],
    private readonly readWrite: boolean,
  ) {}

  async connect(): Promise<pg.PoolClient> {
    const failures: { label: string; error: unknown }[] = [];
    for (let i = 0; i < this.pools.length; i++) {
      const k = (this.current + i) % this.pools.length;
      try {
        const client = await this.pools[k]!.connect();
        if (!this.seen.has(client)) {
          // A checked-out client whose connection dies emits 'error'; with no listener that
          // would end the process. Its queries fail too, and that is how the store hears of it.
          client.on("error", () => undefined);
          if (this.readWrite) await this.refuseReadOnly(client);
          this.seen.add(client);
        }
        this.current = k;
        return client;
      } catch (e) {
        failures.push({ label: this.labels[k]!, error: e });
      }
    }
    if (failures.length === 1) throw failures[0]!.error;
    throw new NoHost(failures);
  }

  private async refuseReadOnly(client: pg.PoolClient): Promise<void> {
    let refused: Error;
    try {
      const r = await client.query<{ transaction_read_only: string }>("SHOW transaction_read_only");
      if (r.rows[0]?.transaction_read_only === "off") return;
      refused = new ReadOnlyServer();
    } catch (e) {
      refused = e instanceof Error ? e : new Error(String(e));
    }
    client.release(refused); // destroyed, not pooled
    throw refused;
  }

  async end(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end()));
  }
}

const CONFIG = new Set(["28000", "28P01", "3D000"]);

/** Every host refused: the message names each; the code is a configuration error's if any, else the last host's. */
class NoHost extends Error {
  readonly code: string | undefined;
  constructor(failures: { label: string; error: unknown }[]) {
    const codes = failures.map((f) => (f.error as { code?: unknown })?.code).filter((c): c is string => typeof c === "string");
    super(`no writable server among ${failures.length} hosts: ${failures.map((f) => `${f.label}: ${(f.error as Error)?.message ?? String(f.error)}`).join("; ")}`);
    this.code = codes.find((c) => CONFIG.has(c)) ?? codes.at(-1);
  }
}
