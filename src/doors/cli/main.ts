#!/usr/bin/env node
/**
 * The `workledger` bin (dist/doors/cli/main.js): runs the CLI bundle next to
 * it (cli.js, built from cli.ts) with V8's code cache. Both are CommonJS
 * bundles made by scripts/bundle-cli.mjs; __dirname is the bundle's folder.
 */
import { join } from "node:path";
import { cacheDir, runCached } from "./code-cache.js";

runCached(join(__dirname, "cli.js"), cacheDir());
