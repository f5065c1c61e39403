/**
 * Versioned SQL files (migrations/NNNN_name.sql) applied on open. The version
 * lives in PRAGMA user_version so the up-to-date check costs one pragma; the
 * migration itself runs under BEGIN IMMEDIATE, so processes opening a fresh
 * ledger together apply it exactly once. Each applied migration is recorded
 * with whether it breaks older code (storage/migrations.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { isBreaking, listMigrations, refuseNewer, type AppliedMigration, type Migration } from "../migrations.js";

const DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

let cached: Migration[] | undefined;
const migrations = (): Migration[] => (cached ??= listMigrations(DIR));

export function latestVersion(): number {
  return migrations().at(-1)?.version ?? 0;
}

/** Migrations applied by a workledger that records them (the table is made when it first migrates). */
const RECORD = "CREATE TABLE IF NOT EXISTS workledger_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, breaking INTEGER NOT NULL) STRICT";

function unknownApplied(db: Database.Database, latest: number): AppliedMigration[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'workledger_migrations'").get();
  if (table === undefined) return [];
  const rows = db.prepare("SELECT version, name, breaking FROM workledger_migrations WHERE version > ? ORDER BY version").all(latest) as {
    version: number;
    name: string;
    breaking: number;
  }[];
  return rows.map((r) => ({ version: r.version, name: r.name, breaking: r.breaking !== 0 }));
}

export function migrate(db: Database.Database, location: string): number {
  const latest = latestVersion();
  const current = () => db.pragma("user_version", { simple: true }) as number;
  const check = (v: number) => refuseNewer(v, latest, v > latest ? unknownApplied(db, latest) : [], location);
  const seen = current();
  check(seen);
  if (seen >= latest) return latest;
  db.exec("BEGIN IMMEDIATE");
  try {
    const v = current();
    check(v);
    if (v < latest) db.exec(RECORD);
    for (const m of migrations().filter((m) => m.version > v)) {
      const sql = readFileSync(DIR + m.file, "utf8");
      db.exec(sql);
      db.prepare("INSERT OR REPLACE INTO workledger_migrations (version, name, breaking) VALUES (?, ?, ?)").run(m.version, m.file, isBreaking(sql) ? 1 : 0);
      db.pragma(`user_version = ${m.version}`);
    }
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
  return latest;
}
