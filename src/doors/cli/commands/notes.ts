/** add-note and verify. */
import type { Command } from "commander";
import type { Inputs } from "../../../core/schemas.js";
import type { Note } from "../../../core/types.js";
import { verifyWorkOrder, type VerifyOutcome } from "../../../exec/verify.js";
import { gitState, readBody } from "../input.js";
import { c, shown } from "../output.js";
import * as render from "../render.js";
import { IDEMPOTENCY_KEY, LEASE_TOKEN, registerOperation, WO_ID } from "../operation.js";

export function register(program: Command): void {
  registerOperation<Note>(program, {
    op: "addNote",
    description: "append a note every agent can read (anyone may add notes)",
    flags: {
      id: WO_ID,
      kind: { help: "progress|finding|blocker|link (verification notes are verify's)", flag: "--kind <kind>", default: "progress" },
      body: { read: (o) => readBody(o) },
      lease_token: LEASE_TOKEN,
      idempotency_key: IDEMPOTENCY_KEY,
    },
    options: (cmd) =>
      cmd.option("-m, --message <text>", "the note (or --body-file, or stdin)").option("--body <text>", "same as -m").option("--body-file <file>", "read the note from a file"),
    render: (note) => ({ human: () => `noted on WO-${note.wo}:\n${render.noteLine(note)}` }),
  });

  registerOperation<VerifyOutcome>(program, {
    op: "verify",
    description: "run the verification command of a work order you hold (as it was when you claimed it) and record the result as a note (exit 6 on failure)",
    flags: {
      id: WO_ID,
      timeout: { help: "kill the command after this long", flag: "--timeout <duration>", default: "10m" },
      dir: {
        help: "run it in this directory (default: your worktree for the work order if you have one and stand in the repository outside a workledger worktree, else the current one); the result names where it ran",
        flag: "--dir <path>",
      },
      trust: { help: "run it although its author is not one the project trusts (read it with get first)", flag: "--trust" },
      block_on_fail: { help: "mark the work order blocked when verification fails (ends your lease)", flag: "--block-on-fail" },
      lease_token: LEASE_TOKEN,
      idempotency_key: IDEMPOTENCY_KEY,
    },
    // Runs here: the command's output streams to stderr as it runs (unless --json).
    run: (ledger, input, ctx) =>
      verifyWorkOrder(ledger, input as Inputs["verify"], {
        git: (cwd) => gitState(cwd),
        ...(ctx.json ? {} : { echo: (b: Buffer) => void process.stderr.write(b), onStart: (cmd: string) => void process.stderr.write(c.dim(`$ ${cmd}\n`)) }),
      }),
    render: (out) => ({
      exitCode: out.passed ? 0 : 6,
      human: () =>
        (out.passed
          ? c.green(`verification passed for WO-${out.work_order.id}`)
          : (out.timed_out
              ? c.red(`verification TIMED OUT for WO-${out.work_order.id}`) + ` (not a pass; --timeout gives it longer)`
              : c.red(`verification FAILED for WO-${out.work_order.id}`) + ` (exit ${out.exit_code})`) + (out.work_order.status === "blocked" ? "; marked blocked" : "")) +
        `: ${shown(out.command)} (${out.dir ? `in ${shown(out.dir)}; ` : ""}sandbox: ${out.sandbox})`,
    }),
  });
}
