/** history: the append-only event log of a work order or a project. */
import type { Command } from "commander";
import type { Inputs } from "../../../core/schemas.js";
import { num, projectOf } from "../invocation.js";
import * as render from "../render.js";
import { cliAction } from "../run.js";

export function register(program: Command): void {
  program
    .command("history")
    .description("event log of a work order (--id) or of the whole project, oldest first, with field diffs")
    .option("--id <id>", "work order id (53 or WO-53)")
    .option("--after <seq>", "only events after this sequence number")
    .option("--limit <n>", "at most this many (default 1000)")
    .action(
      cliAction(async (o, ctx) => {
        const input = { project: projectOf(ctx), id: num(o.id), after: num(o.after), limit: num(o.limit) } as Inputs["history"];
        const events = await (await ctx.ledger()).history(input);
        return { data: events, human: () => render.history(events) };
      }),
    );
}
