/**
 * The back ends the behavioural suite runs against. Each gets a fresh,
 * isolated ledger and a clock the test moves by hand.
 *
 * PostgreSQL runs when a server is reachable at WORKLEDGER_TEST_DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/test), each test in its own
 * throw-away schema. Unreachable, it is left out with a loud warning, or, in
 * CI (CI=true), the run fails: a green CI must mean PostgreSQL was tested.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { openLedger } from "../../src/index.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { skipLoudly } from "../helpers/util.ts";
import { openRemote } from "./remote-backend.ts";

export interface Clock {
  now: number;
  advance(ms: number): void;
}

export interface Backend {
  name: string;
  open(clock: Clock): Promise<{ ledger: LedgerApi; cleanup(): Promise<void> }>;
}

export const PG_URL = process.env.WORKLEDGER_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

let probed: Promise<string | null> | undefined;
/** Null when PostgreSQL answers at PG_URL, else why not. One quick connect per process. */
export function probePostgres(): Promise<string | null> {
  probed ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.query("SELECT 1");
      return null;
    } catch (e) {
      return (e as Error).message || String(e);
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probed;
}

/**
 * Whether the PostgreSQL tests of `suite` can run. Throws in CI when the server
 * is unreachable; elsewhere prints a warning that cannot be missed and says no.
 */
export async function requirePostgres(suite: string): Promise<boolean> {
  const why = await probePostgres();
  if (why === null) return true;
  const safeUrl = PG_URL.replace(/:[^:@/]*@/, ":***@");
  return skipLoudly(`PostgreSQL ${suite} tests`, `PostgreSQL is unreachable at ${safeUrl}: ${why}`, [
    "To run them, start PostgreSQL (15+) there, or point the tests at a server:",
    "  WORKLEDGER_TEST_DATABASE_URL=postgres://user:password@host:5432/db npm test",
  ]);
}

/** PG_URL with `schema` as the search path: for raw clients and for `serve` processes, which take no schema option. */
export function schemaUrl(schema: string): string {
  const u = new URL(PG_URL);
  u.searchParams.set("options", `-c search_path=${schema}`);
  return u.toString();
}

let schemas = 0;
/** A schema name no other test, process or earlier run uses. */
export function uniqueSchema(prefix = "wl_test"): string {
  return `${prefix}_${process.pid}_${++schemas}_${randomBytes(4).toString("hex")}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface PgTestLedger {
  schema: string;
  ledger: Ledger;
  /** A pool on the same schema, for tests that reach under the store (it connects only when used). */
  raw: pg.Pool;
  /** Closes both and drops the schema. */
  close(): Promise<void>;
}

/** A PostgreSQL ledger in a fresh schema, `poolSize` connections for each of it and `raw`. */
export async function pgTestLedger(prefix: string, poolSize: number, raw: pg.PoolConfig = {}): Promise<PgTestLedger> {
  const schema = uniqueSchema(prefix);
  const ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema, poolSize }));
  const pool = new pg.Pool({ connectionString: schemaUrl(schema), max: poolSize, ...raw });
  return {
    schema,
    ledger,
    raw: pool,
    async close() {
      await pool.end();
      await ledger.close();
      await dropSchema(schema);
    },
  };
}

const postgres: Backend = {
  name: "postgres",
  async open(clock) {
    const schema = uniqueSchema();
    const ledger = new Ledger(await openPostgresStore({ connectionString: PG_URL, schema, clock: () => clock.now, poolSize: 4 }));
    return {
      ledger,
      async cleanup() {
        await ledger.close();
        await dropSchema(schema);
      },
    };
  },
};

export const backends: Backend[] = [
  {
    name: "sqlite",
    async open(clock) {
      const dir = mkdtempSync(join(tmpdir(), "workledger-conf-"));
      const ledger = await openLedger({ db: join(dir, "ledger.db"), clock: () => clock.now });
      return {
        ledger,
        async cleanup() {
          await ledger.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  ...((await requirePostgres("conformance")) ? [postgres] : []),
  // Over HTTP: `serve` on a SQLite ledger, one token per agent.
  { name: "remote", open: openRemote },
];

export function clock(start = Date.parse("2026-01-01T00:00:00.000Z")): Clock {
  return {
    now: start,
    advance(ms) {
      this.now += ms;
    },
  };
}
