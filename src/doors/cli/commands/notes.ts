/** add-note and verify. */
import type { Command } from "commander";
import type { Inputs } from "../../../core/schemas.js";
import type { Note } from "../../../core/types.js";
import { verifyWorkOrder } from "../../../exec/verify.js";
import { num, projectOf, str } from "../invocation.js";
import { gitState, readBody } from "../input.js";
import { c, shown } from "../output.js";
import * as render from "../render.js";
import { registerOperation } from "../operation.js";
import { cliAction } from "../run.js";

export function register(program: Command): void {
  registerOperation<Note>(program, {
    op: "addNote",
    description: "append a note every agent can read (anyone may add notes)",
    flags: {
      id: { help: "work order id (53 or WO-53)", flag: "--id <id>", number: true },
      kind: { help: "progress|finding|blocker|verification|link", flag: "--kind <kind>", default: "progress" },
      body: { read: (o) => readBody(o) },
    },
    options: (cmd) => cmd.option("-m, --message <text>", "the note (or --body-file, or stdin)").option("--body-file <file>", "read the note from a file"),
    render: (note) => ({ human: () => `noted on WO-${note.wo}:\n${render.noteLine(note)}` }),
  });

  program
    .command("verify")
    .description("run the verification command of a work order you hold (as it was when you claimed it) and record the result as a note (exit 6 on failure)")
    .option("--id <id>", "work order id (53 or WO-53)")
    .option("--timeout <duration>", "kill the command after this long", "10m")
    .option("--block-on-fail", "mark the work order blocked when verification fails (ends your lease)")
    .option("--lease-token <n>", "fencing token from your claim")
    .action(
      cliAction(async (o, ctx) => {
        const input = {
          project: projectOf(ctx),
          agent: ctx.agent,
          id: num(o.id),
          timeout: str(o.timeout),
          block_on_fail: o.blockOnFail === true,
          lease_token: num(o.leaseToken),
        } as Inputs["verify"];
        const out = await verifyWorkOrder(await ctx.ledger(), input, {
          git: () => gitState(),
          ...(ctx.json ? {} : { echo: (b: Buffer) => void process.stderr.write(b), onStart: (cmd: string) => void process.stderr.write(c.dim(`$ ${cmd}\n`)) }),
        });
        const id = out.work_order.id;
        return {
          data: out,
          exitCode: out.passed ? 0 : 6,
          human: () =>
            (out.passed
              ? c.green(`verification passed for WO-${id}`)
              : c.red(`verification FAILED for WO-${id}`) +
                ` (${out.timed_out ? "timed out" : `exit ${out.exit_code}`})${out.work_order.status === "blocked" ? "; marked blocked" : ""}`) + `: ${shown(out.command)}`,
        };
      }),
    );
}
