/**
 * Versioned SQL files (migrations/NNNN_name.sql) applied on open. Applied
 * versions are rows of workledger_schema_migrations in the ledger's schema.
 * The up-to-date check is two cheap reads without locks; migrating takes a
 * transaction-scoped advisory lock first, so servers starting together
 * queue, and the second one re-reads the version, finds it current and skips.
 * Each row says whether its migration breaks older code: an older server
 * refuses the schema only when one it does not know does (migrations.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { LedgerError } from "../../core/errors.js";
import { isBreaking, listMigrations, refuseNewer, type AppliedMigration, type Migration } from "../migrations.js";

const DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

/**
 * Fixed key of the migration lock ("wledgmig" as ASCII). Advisory locks are
 * per database, so this also serialises migrations of different schemas; they
 * are rare and short, and one key keeps the lock easy to find in pg_locks.
 */
const LOCK_KEY = "8605364469904533863";

let cached: Migration[] | undefined;
const migrations = (): Migration[] => (cached ??= listMigrations(DIR));

/** Every migration's SQL, in order (doctor applies them to a scratch schema to compare). */
export const migrationSql = (): string[] => migrations().map((m) => readFileSync(DIR + m.file, "utf8"));

export function latestVersion(): number {
  return migrations().at(-1)?.version ?? 0;
}

/** The schema version recorded in the connection's search_path schema (0 when none), and the applied migrations newer than `latest`. */
async function currentVersion(client: pg.ClientBase, latest: number): Promise<{ v: number; unknown: AppliedMigration[] }> {
  const exists = await client.query<{ ok: boolean }>("SELECT to_regclass('workledger_schema_migrations') IS NOT NULL AS ok");
  if (!exists.rows[0]?.ok) return { v: 0, unknown: [] };
  // Read through to_jsonb: a table made by a workledger before `name` and `breaking` has neither (then they count as breaking).
  const r = await client.query<{ version: number; name: string | null; breaking: boolean | null; v: number }>(
    `SELECT max(version) OVER () AS v, version, to_jsonb(m) ->> 'name' AS name, (to_jsonb(m) ->> 'breaking')::boolean AS breaking
       FROM workledger_schema_migrations m ORDER BY version DESC`,
  );
  const v = r.rows[0]?.v ?? 0;
  const unknown = r.rows.filter((m) => m.version > latest).map((m) => ({ version: m.version, name: m.name, breaking: m.breaking ?? true }));
  return { v, unknown };
}

/**
 * Brings the schema up to date and returns its version. `schema`, when given,
 * is created if missing; the pool already points search_path at it.
 */
export async function migrate(connect: () => Promise<pg.PoolClient>, location: string, schema: string | undefined): Promise<number> {
  const latest = latestVersion();
  const check = ({ v, unknown }: { v: number; unknown: AppliedMigration[] }) => {
    refuseNewer(v, latest, unknown, location);
    return v;
  };
  const client = await connect();
  // A client whose connection failed must be destroyed, not returned to the pool.
  let broken: Error | undefined;
  const onError = (e: Error) => (broken = e);
  client.on("error", onError);
  try {
    const seen = check(await currentVersion(client, latest));
    if (seen >= latest) return latest;
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [LOCK_KEY]);
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
      const v = check(await currentVersion(client, latest));
      if (v < latest) {
        await client.query("CREATE TABLE IF NOT EXISTS workledger_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
        await client.query("ALTER TABLE workledger_schema_migrations ADD COLUMN IF NOT EXISTS name text, ADD COLUMN IF NOT EXISTS breaking boolean NOT NULL DEFAULT true");
        for (const m of migrations().filter((m) => m.version > v)) {
          const sql = readFileSync(DIR + m.file, "utf8");
          await client.query(sql);
          await client.query("INSERT INTO workledger_schema_migrations (version, name, breaking) VALUES ($1, $2, $3)", [m.version, m.file, isBreaking(sql)]);
        }
      }
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch((re: unknown) => (broken = re instanceof Error ? re : new Error(String(re))));
      throw e;
    }
    return latest;
  } catch (e) {
    if (!(e instanceof LedgerError) && broken === undefined && e instanceof Error && !("severity" in e)) broken = e;
    throw e;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
