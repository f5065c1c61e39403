/** Both stores, bare (a Store, not a Ledger): for tests that write under the schema's limits, straight into the store. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store } from "../../src/core/port.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { openSqliteStore } from "../../src/storage/sqlite/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";

export interface OpenStore {
  store: Store;
  close(): Promise<void>;
}

export interface StoreCase {
  name: "sqlite" | "postgres";
  /** Null when PostgreSQL is unreachable outside CI (after the loud warning). */
  open(): Promise<OpenStore | null>;
}

export const storeCases = (suite: string): StoreCase[] => [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "workledger-store-"));
      const store = openSqliteStore({ path: join(dir, "l.db") });
      return {
        store,
        async close() {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: "postgres",
    async open() {
      if (!(await requirePostgres(suite))) return null;
      const schema = uniqueSchema("wl_store");
      const store = await openPostgresStore({ connectionString: PG_URL, schema, poolSize: 2 });
      return {
        store,
        async close() {
          await store.close();
          await dropSchema(schema);
        },
      };
    },
  },
];
