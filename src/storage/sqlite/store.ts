/**
 * The embedded store: one better-sqlite3 connection per process, WAL mode,
 * BEGIN IMMEDIATE for writes. SQLite has no row locks; taking the write lock
 * up front serialises claimants across processes, and the busy timeout makes
 * them queue briefly instead of failing.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { once } from "../../core/lazy.js";
import Database from "better-sqlite3";
import { LedgerError } from "../../core/errors.js";
import type { BackupResult, Store, StoreInfo, Tx } from "../../core/port.js";
import { migrate } from "./migrate.js";
import { SqliteTx } from "./tx.js";

export interface SqliteOptions {
  /** Path of the ledger file. */
  path: string;
  /** Injectable clock (ms since epoch) for tests; defaults to Date.now. */
  clock?: () => number;
  /** How long a writer waits for the lock before giving up (ms). */
  busyTimeoutMs?: number;
}

/**
 * The addon's path, so better-sqlite3 need not search for it with the
 * `bindings` package (a third of what a CLI command spent loading it:
 * docs/PERFORMANCE.md); where it is built elsewhere, that search as before.
 */
const nativeBinding = once((): { nativeBinding?: string } => {
  const addon = join(dirname(createRequire(import.meta.url).resolve("better-sqlite3/package.json")), "build", "Release", "better_sqlite3.node");
  return existsSync(addon) ? { nativeBinding: addon } : {};
});

export function openSqliteStore(opts: SqliteOptions): Store {
  const db = guard(opts.path, () => {
    if (opts.path !== ":memory:" && !existsSync(opts.path)) {
      // Private from the start (issue 24): notes and context are nobody else's to read. SQLite gives the WAL and
      // shared-memory files the database's mode. To share with a group, create the file (and folder) with the group's modes first.
      ensureDir(dirname(opts.path));
      closeSync(openSync(opts.path, "a", 0o600));
    }
    const db = new Database(opts.path, { timeout: opts.busyTimeoutMs ?? 5000, ...nativeBinding() });
    if (db.pragma("journal_mode", { simple: true }) !== "wal") db.pragma("journal_mode = WAL");
    // FULL: a commit survives power loss too, not only a process crash.
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    return db;
  });
  const schema_version = guard(opts.path, () => migrate(db, opts.path));
  return new SqliteStore(db, { kind: "sqlite", location: opts.path, schema_version }, opts.clock ?? Date.now);
}

class SqliteStore implements Store {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly tx: SqliteTx;
  /** Prepared once: db.exec would parse the text on every transaction. */
  private readonly statements: Record<"BEGIN IMMEDIATE" | "BEGIN DEFERRED" | "COMMIT", Database.Statement>;

  constructor(
    private readonly db: Database.Database,
    readonly info: StoreInfo,
    private readonly clock: () => number,
  ) {
    this.tx = new SqliteTx(db);
    this.statements = { "BEGIN IMMEDIATE": db.prepare("BEGIN IMMEDIATE"), "BEGIN DEFERRED": db.prepare("BEGIN DEFERRED"), COMMIT: db.prepare("COMMIT") };
  }

  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.run("BEGIN IMMEDIATE", fn);
  }

  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.run("BEGIN DEFERRED", fn);
  }

  /**
   * One connection cannot hold two transactions, so transactions of this
   * process run one after another even when callers overlap.
   */
  private run<T>(begin: "BEGIN IMMEDIATE" | "BEGIN DEFERRED", fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.inTurn(async () => {
      guard(this.info.location, () => this.statements[begin].run());
      this.tx.at = new Date(this.clock()).toISOString();
      try {
        const out = await fn(this.tx);
        guard(this.info.location, () => this.statements.COMMIT.run());
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw translate(e, this.info.location);
      }
    });
  }

  /** Runs `fn` once everything this connection was asked before it has ended (one connection, one thing at a time). */
  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async integrity(): Promise<string[]> {
    const rows = this.db.pragma("integrity_check") as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).filter((m) => m !== "ok");
  }

  /**
   * SQLite's online backup: the first step learns the size, the second copies
   * every page in one go, so writers in other processes (WAL: never blocked by
   * it) cannot make it start over. Written beside `file` and renamed once its
   * integrity check passes.
   */
  backup(file: string, onStart?: (bytes: number) => void): Promise<BackupResult> {
    return this.inTurn(async () => {
      if (existsSync(file)) throw notNew(file, "exists");
      if (!existsSync(dirname(file))) throw notNew(file, "is in a directory that does not exist");
      const partial = `${file}.partial`;
      rmSync(partial, { force: true }); // an earlier backup's, cut short
      closeSync(openSync(partial, "wx", 0o600)); // private, like the ledger
      try {
        const pageSize = this.db.pragma("page_size", { simple: true }) as number;
        await this.db.backup(partial, {
          progress: ({ totalPages }) => {
            onStart?.(totalPages * pageSize);
            onStart = undefined;
            return 0x7fffffff;
          },
        });
        const copy = new Database(partial, nativeBinding());
        try {
          const check = copy.pragma("quick_check", { simple: true });
          if (check !== "ok")
            throw new LedgerError("UNAVAILABLE", `the copy of ${this.info.location} failed its integrity check (${String(check)}); nothing was written to ${file}`);
        } finally {
          copy.close();
        }
        renameSync(partial, file);
        return { file, bytes: statSync(file).size, integrity: "ok" as const };
      } catch (e) {
        for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
        throw translate(e, this.info.location);
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.db.open) this.db.close();
  }
}

const notNew = (file: string, why: string) =>
  new LedgerError("VALIDATION", `${file} ${why}: a backup is written to a new file in an existing directory; nothing was written`, {
    hint: "give a new file's path",
    details: { issues: [{ field: "file", message: why }] },
  });

/** mkdir -p, by hand (Node 20's recursive mkdirSync spins forever under /proc); what it creates is the user's only. */
function ensureDir(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) ensureDir(parent);
  mkdirSync(dir, { mode: 0o700 });
}

function guard<T>(location: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw translate(e, location);
  }
}

/** Storage failures an agent can act on become UNAVAILABLE (exit 7); others stay internal. */
function translate(e: unknown, location: string): unknown {
  if (e instanceof LedgerError) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string") return e;
  const busy = code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
  const unusable =
    /^SQLITE_(CANTOPEN|READONLY|IOERR|FULL|CORRUPT|NOTADB|PERM|AUTH)/.test(code) || ["EACCES", "EROFS", "ENOTDIR", "ENOENT", "EEXIST", "ENOSPC", "EPERM"].includes(code);
  if (!busy && !unusable) return e;
  const message = busy ? `ledger ${location} is locked by another process for longer than the busy timeout` : `cannot use ledger ${location}: ${(e as Error).message} (${code})`;
  return new LedgerError("UNAVAILABLE", message, {
    hint: busy ? "retry shortly; if it persists, find the process holding the file lock" : "check the --db path / WORKLEDGER_DB exists, is writable and is a workledger file",
    details: { location, cause: code },
    cause: e,
  });
}
