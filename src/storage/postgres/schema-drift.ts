/**
 * `doctor`'s schema check on PostgreSQL (issue 29): the ledger's tables,
 * columns, indexes and constraints against what the migrations make. The
 * migrations are applied to a scratch schema inside a transaction that is
 * rolled back (PostgreSQL's DDL is transactional), so the expected schema is
 * the code's own, never a list kept by hand; what differs is named.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrationSql } from "./migrate.js";

/** One line per column, index and constraint, with the schema's own name taken out. */
async function describe(client: pg.ClientBase, schema: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const strip = (text: string) => text.replaceAll(`${pg.escapeIdentifier(schema)}.`, "").replaceAll(`${schema}.`, "");
  const columns = await client.query<{ t: string; c: string; type: string; nullable: string; def: string | null }>(
    `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable, column_default AS def
       FROM information_schema.columns WHERE table_schema = $1 AND table_name <> 'workledger_schema_migrations'`,
    [schema],
  );
  for (const r of columns.rows) out.set(`column ${r.t}.${r.c}`, strip(`${r.type}${r.nullable === "NO" ? " not null" : ""}${r.def ? ` default ${r.def}` : ""}`));
  const indexes = await client.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND tablename <> 'workledger_schema_migrations'`,
    [schema],
  );
  for (const r of indexes.rows) out.set(`index ${r.name}`, strip(r.def));
  const constraints = await client.query<{ t: string; name: string; def: string }>(
    `SELECT c.relname AS t, k.conname AS name, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = k.connamespace
      WHERE n.nspname = $1 AND c.relname <> 'workledger_schema_migrations'`,
    [schema],
  );
  for (const r of constraints.rows) out.set(`constraint ${r.t}.${r.name}`, strip(r.def));
  return out;
}

/** What differs between the migrations' schema and the ledger's (empty: none). */
export async function schemaDrift(client: pg.ClientBase): Promise<string[]> {
  const live = (await client.query<{ s: string }>("SELECT current_schema() AS s")).rows[0]!.s;
  const found = await describe(client, live);
  const scratch = `workledger_doctor_${randomBytes(6).toString("hex")}`;
  let expected: Map<string, string>;
  await client.query("BEGIN");
  try {
    await client.query(`CREATE SCHEMA ${scratch}`);
    await client.query(`SET LOCAL search_path TO ${scratch}`);
    for (const sql of migrationSql()) await client.query(sql);
    expected = await describe(client, scratch);
  } finally {
    await client.query("ROLLBACK");
  }
  const drift: string[] = [];
  for (const [what, def] of expected) {
    const here = found.get(what);
    if (here === undefined) drift.push(`missing ${what} (${def})`);
    else if (here !== def) drift.push(`${what} differs: expected ${def}, found ${here}`);
  }
  for (const [what, def] of found) if (!expected.has(what)) drift.push(`unexpected ${what} (${def})`);
  return drift.sort();
}
