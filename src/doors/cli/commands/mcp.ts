/** mcp and agent-setup: workledger as tools for LLM agents. */
import type { Command } from "commander";
import { gitState } from "../input.js";
import { cliAction } from "../run.js";
import { pkgVersion } from "../version.js";
import { agentSetup } from "./agent-setup.js";

export function register(program: Command): void {
  program
    .command("mcp")
    .description("Model Context Protocol server over stdio: one tool per agent command (identity: --agent, or the token in remote mode)")
    .action(
      cliAction(async (_o, ctx) => {
        const { runMcp } = await import("../../mcp/server.js"); // the SDK only loads for this command
        await runMcp({ ledger: await ctx.ledger({ tokenMemory: false }), agent: ctx.agent, project: ctx.project, version: pkgVersion, git: (cwd) => gitState(cwd) });
        return { data: undefined, human: () => "" };
      }),
    );

  program
    .command("agent-setup")
    .description("write the client's MCP entry, session hooks (context at start, keepalive, a warning at end) and instructions (--print: only show them)")
    .option("--client <client>", "claude|codex|generic", "generic")
    .option("--dir <dir>", "the project folder the client runs in", ".")
    .option("--print", "show the files instead of writing them")
    .action(cliAction(async (o, ctx) => agentSetup(o, ctx)));
}
