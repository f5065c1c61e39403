/**
 * Upgrades one server at a time (issue 29): an older workledger runs on a
 * schema with a newer compatible migration and refuses one with a newer
 * breaking migration, naming it, on PostgreSQL and on SQLite; servers starting
 * together on a fresh database apply each migration once.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { Ledger } from "../../src/core/ledger.ts";
import { latestVersion as pgLatest } from "../../src/storage/postgres/migrate.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { latestVersion as sqliteLatest } from "../../src/storage/sqlite/migrate.ts";
import { openSqliteStore } from "../../src/storage/sqlite/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { rejects } from "../helpers/rejects.ts";

const STORE = fileURLToPath(new URL("../../src/storage/postgres/store.ts", import.meta.url));

/** What any version of workledger does on a ledger: write and read a WO. */
async function works(ledger: Ledger): Promise<void> {
  const [wo] = await ledger.create({ project: "up", agent: "a", items: [{ title: "still works" }], new_project: true });
  await ledger.claim({ project: "up", agent: "a", id: wo!.id });
  assert.equal((await ledger.get({ project: "up", id: wo!.id })).status, "claimed");
}

describe("PostgreSQL: upgrades one server at a time (issue 29)", () => {
  let schema: string;
  let client: pg.Client;
  let available = false;

  before(async () => {
    available = await requirePostgres("migration");
    if (!available) return;
    schema = uniqueSchema("wl_mig");
    client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
  });
  after(async () => {
    if (!available) return;
    await client.end();
    await dropSchema(schema);
  });

  it("servers starting together on a fresh database apply each migration once, recording whether it breaks older code", async (t) => {
    if (!available) return t.skip("PostgreSQL unreachable");
    const script = `const { openPostgresStore } = await import(${JSON.stringify(STORE)}); const s = await openPostgresStore({ connectionString: ${JSON.stringify(PG_URL)}, schema: ${JSON.stringify(schema)}, poolSize: 1 }); console.log(s.info.schema_version); await s.close();`;
    const starts = Array.from(
      { length: 4 },
      () =>
        new Promise<string>((resolve, reject) =>
          execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 60_000 }, (e, out, err) =>
            e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out.trim()),
          ),
        ),
    );
    assert.deepEqual(await Promise.all(starts), Array(4).fill(String(pgLatest())));
    const rows = await client.query<{ version: number; n: string; name: string; breaking: boolean }>(
      `SELECT version, count(*) OVER (PARTITION BY version) AS n, name, breaking FROM ${pg.escapeIdentifier(schema)}.workledger_schema_migrations ORDER BY version`,
    );
    assert.equal(rows.rows.length, pgLatest(), "one row per migration");
    assert.ok(rows.rows.every((r) => r.n === "1" && /^\d{4}_.+\.sql$/.test(r.name) && typeof r.breaking === "boolean"));
  });

  it("an older server runs on a schema with a compatible migration it does not know, and refuses a breaking one, naming it", async (t) => {
    if (!available) return t.skip("PostgreSQL unreachable");
    const q = (sql: string) => client.query(sql.replaceAll("$S", pg.escapeIdentifier(schema)));
    const next = pgLatest() + 1;
    // A newer workledger added a nullable column: older code keeps working.
    await q(`ALTER TABLE $S.work_orders ADD COLUMN newer_note text`);
    await q(`INSERT INTO $S.workledger_schema_migrations (version, name, breaking) VALUES (${next}, '${next}_newer_note.sql', false)`);
    const store = await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 });
    assert.equal(store.info.schema_version, pgLatest());
    await works(new Ledger(store));
    await store.close();
    // Then a breaking one: refused before anything is touched.
    await q(`INSERT INTO $S.workledger_schema_migrations (version, name, breaking) VALUES (${next + 1}, '${next + 1}_split_leases.sql', true)`);
    const e = await rejects(openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 }), "UNAVAILABLE");
    assert.match(
      e.message,
      new RegExp(`has schema v${next + 1}, newer than this workledger understands \\(v${pgLatest()}\\): v${next + 1} \\(${next + 1}_split_leases\\.sql\\) breaks older code`),
    );
    assert.match(e.hint ?? "", /upgrade workledger/);
  });
});

describe("PostgreSQL: doctor checks the schema against its migrations (issue 29)", () => {
  it("names each missing, unexpected or changed column, index and constraint", async (t) => {
    if (!(await requirePostgres("doctor schema"))) return t.skip("PostgreSQL unreachable");
    const schema = uniqueSchema("wl_drift");
    const store = await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 1 });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const ledger = new Ledger(store);
      assert.deepEqual((await ledger.health()).schema, [], "as the migrations made it");
      const S = pg.escapeIdentifier(schema);
      await client.query(`ALTER TABLE ${S}.notes ADD COLUMN mood text`);
      await client.query(`ALTER TABLE ${S}.notes ALTER COLUMN body DROP NOT NULL`);
      const [index] = (
        await client.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND indexname NOT LIKE '%pkey' ORDER BY 1 LIMIT 1`, [schema])
      ).rows;
      await client.query(`DROP INDEX ${S}.${pg.escapeIdentifier(index!.name)}`);
      const drift = (await ledger.health()).schema ?? [];
      assert.ok(
        drift.some((d) => d.startsWith("unexpected column notes.mood (text)")),
        drift.join("\n"),
      );
      assert.ok(
        drift.some((d) => d === "column notes.body differs: expected text not null, found text"),
        drift.join("\n"),
      );
      assert.ok(
        drift.some((d) => d.startsWith(`missing index ${index!.name} (CREATE `)),
        drift.join("\n"),
      );
      assert.equal(drift.length, 3, drift.join("\n"));
      // Nothing of the scratch schema it compared with is left behind.
      const left = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'workledger_doctor_%'");
      assert.equal(left.rowCount, 0);
    } finally {
      await client.end();
      await store.close();
      await dropSchema(schema);
    }
  });
});

describe("SQLite: the same rule for a ledger file", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "workledger-mig-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("runs past a compatible migration it does not know and refuses a breaking or unrecorded one", async () => {
    const path = join(dir, "l.db");
    await openSqliteStore({ path }).close();
    const db = new Database(path);
    const next = sqliteLatest() + 1;
    const recorded = db.prepare("SELECT count(*) AS n FROM workledger_migrations").get() as { n: number };
    assert.equal(recorded.n, sqliteLatest(), "every migration applied is recorded");
    db.exec(`ALTER TABLE work_orders ADD COLUMN newer_note TEXT`);
    db.prepare("INSERT INTO workledger_migrations (version, name, breaking) VALUES (?, ?, 0)").run(next, `${next}_newer_note.sql`);
    db.pragma(`user_version = ${next}`);
    const store = openSqliteStore({ path });
    await works(new Ledger(store));
    await store.close();
    db.pragma(`user_version = ${next + 1}`); // not recorded: it cannot be told compatible
    db.close();
    const e = await rejects(
      Promise.resolve().then(() => openSqliteStore({ path })),
      "UNAVAILABLE",
    );
    assert.match(e.message, new RegExp(`v${next + 1}, not recorded as compatible breaks older code`));
  });
});
