/** context-put, context-pull: handing working knowledge to the next agent. */
import { DIRTY } from "../../../core/freshness.js";
import type { Command } from "commander";
import type { ContextPull } from "../../../core/ledger.js";
import type { ContextEntry } from "../../../core/types.js";
import { readBody } from "../input.js";
import { IDEMPOTENCY_KEY, LEASE_TOKEN, NEW_PROJECT, registerOperation } from "../operation.js";
import * as render from "../render.js";

export function register(program: Command): void {
  registerOperation<ContextEntry>(program, {
    op: "contextPut",
    description: "save what you learned for the next agent (git HEAD is recorded when run in a work tree)",
    flags: {
      body: { read: (o) => readBody(o) },
      key: { help: "context key", flag: "--key <key>", default: "handover" },
      id: { help: "link the work order this is about: its claim and get show it", flag: "--id <id>", number: true },
      new_project: NEW_PROJECT,
      lease_token: LEASE_TOKEN,
      idempotency_key: IDEMPOTENCY_KEY,
    },
    options: (cmd) =>
      cmd
        .option("-m, --message <text>", "the context (or --body-file, or stdin)")
        .option("--body <text>", "same as -m")
        .option("--body-file <file>", "read the context from a file"),
    render: (entry) => ({
      warnings: entry.git?.dirty ? [`context ${entry.key} was ${DIRTY}; the next agent reads it as stale`] : [],
      human: () => `saved context ${entry.key} for ${entry.project}${entry.git ? ` at ${entry.git.head.slice(0, 12)}` : ""}`,
    }),
  });

  // With --history the table's contextHistory answers (the query chooses it), with every entry.
  registerOperation<ContextPull>(program, {
    op: "contextPull",
    description: "newest context per key with its age, author, git head and a fresh/stale verdict",
    flags: {
      key: { help: "only this key", flag: "--key <key>" },
      id: { help: "only context linked to this work order", flag: "--id <id>", number: true },
      max_age: { help: "older than this is stale", flag: "--max-age <duration>", default: "24h" },
      history: { help: "every entry, newest first, not just the newest per key", flag: "--history" },
      limit: { help: "with --history: at most this many (default 100)", flag: "--limit <n>", number: true },
    },
    options: (cmd) => cmd.option("--require-fresh", "exit 8 unless there is context and all of it is fresh"),
    // --history prints its entries as a JSON array (DESIGN.md §5).
    output: (pulled, o) => (o.history === true ? pulled.entries : pulled),
    render: (pulled, _ctx, o) => {
      if (o.history === true) return { human: () => render.contextHistory(pulled.entries) };
      const refuse = o.requireFresh === true && pulled.verdict !== "fresh";
      return {
        exitCode: refuse ? 8 : 0,
        warnings: refuse ? [pulled.verdict === "none" ? "no context to trust: start fresh" : "context is stale: validate it before trusting it, or start fresh"] : [],
        human: () => render.contextPull(pulled),
      };
    },
  });
}
