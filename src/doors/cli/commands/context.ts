/** context-put, context-pull: handing working knowledge to the next agent. */
import type { Command } from "commander";
import type { Inputs } from "../../../core/schemas.js";
import { identity, num, projectOf, str } from "../invocation.js";
import { gitState, readBody } from "../input.js";
import * as render from "../render.js";
import { cliAction } from "../run.js";

export function register(program: Command): void {
  program
    .command("context-put")
    .description("save what you learned for the next agent (git HEAD is recorded when run in a work tree)")
    .option("-m, --message <text>", "the context (or --body-file, or stdin)")
    .option("--body-file <file>", "read the context from a file")
    .option("--key <key>", "context key", "handover")
    .option("--id <id>", "link a work order")
    .action(
      cliAction(async (o, ctx) => {
        const input = {
          project: projectOf(ctx),
          agent: identity(ctx),
          key: str(o.key),
          body: readBody(o),
          git: gitState(),
          ...(o.id === undefined ? {} : { wo: num(o.id) }),
        } as Inputs["contextPut"];
        const entry = await (await ctx.ledger()).contextPut(input);
        return { data: entry, human: () => `saved context ${entry.key} for ${entry.project}${entry.git ? ` at ${entry.git.head.slice(0, 12)}` : ""}` };
      }),
    );

  program
    .command("context-pull")
    .description("newest context per key with its age, author, git head and a fresh/stale verdict")
    .option("--key <key>", "only this key")
    .option("--max-age <duration>", "older than this is stale", "24h")
    .option("--history", "every entry, newest first, not just the newest per key")
    .option("--limit <n>", "with --history: at most this many (default 100)")
    .option("--require-fresh", "exit 8 unless there is context and all of it is fresh")
    .action(
      cliAction(async (o, ctx) => {
        const input = { project: projectOf(ctx), key: str(o.key), max_age: str(o.maxAge), git: gitState(), limit: num(o.limit) } as Inputs["contextPull"];
        const ledger = await ctx.ledger();
        if (o.history) {
          const list = await ledger.contextHistory(input);
          return { data: list, human: () => render.contextHistory(list) };
        }
        const pull = await ledger.contextPull(input);
        const refuse = o.requireFresh === true && pull.verdict !== "fresh";
        return {
          data: pull,
          exitCode: refuse ? 8 : 0,
          warnings: refuse ? [pull.verdict === "none" ? "no context to trust: start fresh" : "context is stale: validate it before trusting it, or start fresh"] : [],
          human: () => render.contextPull(pull),
        };
      }),
    );
}
