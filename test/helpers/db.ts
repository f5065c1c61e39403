/** The whole of a SQLite ledger as text: every table, tokens included, so "nothing changed" means nothing. */
import Database from "better-sqlite3";

export function dumpSqlite(db: string): string {
  const conn = new Database(db, { readonly: true });
  try {
    const tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    return JSON.stringify(tables.map(({ name }) => [name, conn.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all()]));
  } finally {
    conn.close();
  }
}
