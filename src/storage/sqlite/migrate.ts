/**
 * Versioned SQL files (migrations/NNNN_name.sql) applied on open. The version
 * lives in PRAGMA user_version so the up-to-date check costs one pragma; the
 * migration itself runs under BEGIN IMMEDIATE, so processes opening a fresh
 * ledger together apply it exactly once.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { listMigrations, refuseNewer, type Migration } from "../migrations.js";

const DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

let cached: Migration[] | undefined;
const migrations = (): Migration[] => (cached ??= listMigrations(DIR));

export function latestVersion(): number {
  return migrations().at(-1)?.version ?? 0;
}

export function migrate(db: Database.Database, location: string): number {
  const latest = latestVersion();
  const current = () => db.pragma("user_version", { simple: true }) as number;
  const check = (v: number) => refuseNewer(v, latest, location);
  const seen = current();
  check(seen);
  if (seen === latest) return latest;
  db.exec("BEGIN IMMEDIATE");
  try {
    const v = current();
    check(v);
    for (const m of migrations().filter((m) => m.version > v)) {
      db.exec(readFileSync(DIR + m.file, "utf8"));
      db.pragma(`user_version = ${m.version}`);
    }
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
  return latest;
}
