// tsc only emits .ts output; SQL migrations ship beside the compiled adapter.
import { cpSync } from "node:fs";
cpSync("src/storage/sqlite/migrations", "dist/storage/sqlite/migrations", { recursive: true });
