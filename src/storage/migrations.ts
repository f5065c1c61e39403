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

/** An older workledger must never touch a ledger a newer one has migrated. */
export function refuseNewer(found: number, latest: number, location: string): void {
  if (found <= latest) return;
  throw new LedgerError("UNAVAILABLE", `ledger ${location} has schema v${found}, newer than this workledger understands (v${latest})`, {
    hint: "upgrade workledger (npm install -g workledger@latest); the ledger was left untouched",
    details: { schema_version: found, supported: latest },
  });
}
