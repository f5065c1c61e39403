/** Runs a command handler: prints its result as JSON or text, maps errors to exit codes. */
import type { Command } from "commander";
import { LedgerError, isLedgerError } from "../../core/errors.js";
import { makeCtx, type Ctx, type Opts, type Result } from "./invocation.js";
import { EXIT } from "./exit.js";
import { CLI_DIALECT, cliMessage } from "./hints.js";
import { c } from "./output.js";
import { currentSession, touchActivity } from "./sessions.js";

export type Handler = (o: Opts, ctx: Ctx, args: string[]) => Promise<Result>;

export function cliAction(handler: Handler, ctxOpts: Parameters<typeof makeCtx>[1] = {}) {
  return async (...params: unknown[]): Promise<void> => {
    const cmd = params.at(-1) as Command;
    const g = cmd.optsWithGlobals<Opts>();
    const json = g.json === true;
    let ctx: ReturnType<typeof makeCtx> | undefined;
    try {
      ctx = makeCtx(g, ctxOpts); // may refuse a broken .workledger or WORKLEDGER_ROLE
      // A command run in a keep-alive session is the agent doing something: its leases stay held (see keep-alive.ts).
      const session = currentSession();
      if (session !== undefined) touchActivity(session);
      const result = await handler(cmd.opts<Opts>(), ctx, cmd.args);
      for (const w of result.warnings ?? []) process.stderr.write(`${c.yellow("warning:")} ${w}\n`);
      if (result.data !== undefined) process.stdout.write((json ? JSON.stringify(result.data) : result.human()) + "\n");
      process.exitCode = result.exitCode ?? 0;
    } catch (e) {
      fail((await ctx?.searched(e)) ?? e, json);
    } finally {
      await ctx?.close().catch(() => undefined);
    }
  };
}

export function fail(e: unknown, json: boolean): void {
  const err = isLedgerError(e)
    ? e
    : new LedgerError("INTERNAL", e instanceof Error ? e.message : String(e), { hint: "this is a bug in workledger; rerun with WORKLEDGER_DEBUG=1 and report it" });
  if (!isLedgerError(e) && process.env.WORKLEDGER_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  const body = err.toJSON(CLI_DIALECT);
  body.message = cliMessage(body.message);
  if (json) process.stdout.write(JSON.stringify({ error: body }) + "\n");
  else process.stderr.write(`${c.red("error:")} ${body.message}\n${body.hint ? `${c.dim("hint:")} ${body.hint}\n` : ""}`);
  process.exitCode = EXIT[err.code];
}

/** Resolves with the first SIGTERM or SIGINT: long-running commands (serve, watch, keepalive) stop cleanly. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once("SIGTERM", on("SIGTERM"));
    process.once("SIGINT", on("SIGINT"));
  });
}
