/** Versioned migration files (`NNNN_name.sql`) of one adapter, and the refusal of a newer schema. */
import { readdirSync } from "node:fs";
import { LedgerError } from "../core/errors.js";

export interface Migration {
  version: number;
  file: string;
}

export function listMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), file }));
}

/** A migration applied to a ledger, as recorded there (name null: not recorded, as by a workledger before the record). */
export interface AppliedMigration {
  version: number;
  name: string | null;
  breaking: boolean;
}

/**
 * Whether a migration breaks older code (issue 29): compatible ones say so
 * on their first line (`-- compatible: <why older code keeps working>`);
 * anything else is breaking, the safe default.
 */
export const isBreaking = (sql: string): boolean => !/^--\s*compatible\b/i.test(sql);

/**
 * An older workledger runs on a newer schema while every migration it does
 * not know is compatible (several servers upgraded one at a time, issue 29).
 * It refuses the ledger only when one is breaking, or not recorded (then it
 * cannot tell), naming which; it never touches the schema either way.
 */
export function refuseNewer(found: number, latest: number, unknown: readonly AppliedMigration[], location: string): void {
  if (found <= latest) return;
  const recorded = new Set(unknown.map((m) => m.version));
  const unrecorded = found > latest && !recorded.has(found) ? [{ version: found, name: null, breaking: true }] : [];
  const breaking = [...unknown.filter((m) => m.breaking), ...unrecorded];
  if (breaking.length === 0) return;
  const named = breaking.map((m) => `v${m.version}${m.name ? ` (${m.name})` : ", not recorded as compatible"}`).join(", ");
  throw new LedgerError("UNAVAILABLE", `ledger ${location} has schema v${found}, newer than this workledger understands (v${latest}): ${named} breaks older code`, {
    hint: "upgrade workledger (npm install -g workledger@latest); the ledger was left untouched",
    details: { schema_version: found, supported: latest, breaking: breaking.map((m) => m.version) },
  });
}
