/** add-note and verify. */
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import { parseDuration } from "../../../core/duration.js";
import type { Inputs } from "../../../core/schemas.js";
import { noIdentity } from "../../../core/validate.js";
import { runVerification } from "../../../exec/verify.js";
import { remoteUrl } from "../connect.js";
import { identity, num, projectOf, str } from "../context.js";
import { readBody } from "../input.js";
import { c } from "../output.js";
import * as render from "../render.js";
import { act } from "../run.js";

export function register(program: Command): void {
  program
    .command("add-note")
    .description("append a note every agent can read (anyone may add notes)")
    .option("--id <id>", "work order id (53 or WO-53)")
    .option("--kind <kind>", "progress|finding|blocker|verification|link", "progress")
    .option("-m, --message <text>", "the note (or --body-file, or stdin)")
    .option("--body-file <file>", "read the note from a file")
    .action(
      act(async (o, ctx) => {
        const input = { project: projectOf(ctx), agent: identity(ctx), id: num(o.id), kind: str(o.kind), body: readBody(o) } as Inputs["addNote"];
        const note = await (await ctx.ledger()).addNote(input);
        return { data: note, human: () => `noted on WO-${note.wo}:\n${render.noteLine(note)}` };
      }),
    );

  program
    .command("verify")
    .description("run the work order's verification command and record the result as a note (exit 6 on failure)")
    .option("--id <id>", "work order id (53 or WO-53)")
    .option("--timeout <duration>", "kill the command after this long", "10m")
    .option("--block-on-fail", "mark the work order blocked when verification fails (ends your lease)")
    .option("--lease-token <n>", "fencing token from your claim")
    .action(
      act(async (o, ctx) => {
        if (ctx.agent === undefined && remoteUrl() === undefined) throw noIdentity();
        const ledger = await ctx.ledger();
        const project = projectOf(ctx);
        const wo = await ledger.get({ project, id: num(o.id) as number });
        if (!wo.verification.trim()) {
          throw new LedgerError("VALIDATION", `verification: WO-${wo.id} has no verification command`, { hint: `set one with update --id ${wo.id} --verification "npm test"`, details: { issues: [{ field: "verification", message: "empty" }] } });
        }
        const timeoutMs = parseDuration(str(o.timeout) ?? "");
        if (timeoutMs === null || timeoutMs < 1000) {
          throw new LedgerError("VALIDATION", `timeout: must be a duration like 90s or 10m, got ${JSON.stringify(o.timeout)}`, { details: { issues: [{ field: "timeout", message: "bad duration" }] } });
        }
        if (!ctx.json) process.stderr.write(c.dim(`$ ${wo.verification}\n`));
        const run = await runVerification(wo.verification, { timeoutMs, ...(ctx.json ? {} : { echo: (b: Buffer) => process.stderr.write(b) }) });
        const input = { project, agent: identity(ctx), id: wo.id, passed: run.passed, exit_code: run.exit_code, duration_ms: run.duration_ms, output_tail: run.output_tail, block_on_fail: o.blockOnFail === true, lease_token: num(o.leaseToken) } as Inputs["verification"];
        const result = await ledger.recordVerification(input);
        const data = { ...result, exit_code: run.exit_code, timed_out: run.timed_out, duration_ms: run.duration_ms };
        return {
          data,
          exitCode: run.passed ? 0 : 6,
          human: () => (run.passed ? c.green(`verification passed for WO-${wo.id}`) : c.red(`verification FAILED for WO-${wo.id}`) + ` (${run.timed_out ? "timed out" : `exit ${run.exit_code}`})${result.work_order.status === "blocked" ? "; marked blocked" : ""}`),
        };
      }),
    );
}
