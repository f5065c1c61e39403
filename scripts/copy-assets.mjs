// Post-build: tsc only emits .js, so ship the SQL migrations beside the
// compiled adapter (the CLI bundle finds them there too, see bundle-cli.mjs).
import { cpSync } from "node:fs";

cpSync("src/storage/sqlite/migrations", "dist/storage/sqlite/migrations", { recursive: true });
cpSync("src/storage/postgres/migrations", "dist/storage/postgres/migrations", { recursive: true });
