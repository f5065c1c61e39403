// Post-build: tsc only emits .js, so ship the SQL migrations beside the
// compiled adapter, and make the bin executable for `npx workledger`.
import { chmodSync, cpSync } from "node:fs";

cpSync("src/storage/sqlite/migrations", "dist/storage/sqlite/migrations", { recursive: true });
cpSync("src/storage/postgres/migrations", "dist/storage/postgres/migrations", { recursive: true });
chmodSync("dist/doors/cli/main.js", 0o755);
