/** mcp and agent-setup: workledger as tools for LLM agents. */
import type { Command } from "commander";
import { gitState, localRepository } from "../input.js";
import { cliAction } from "../run.js";
import { pinForHooks } from "../ledger-config.js";
import { declaredCan } from "../operation.js";
import { idleFor } from "../sessions.js";
import { pkgVersion } from "../version.js";
import { agentSetup } from "./agent-setup.js";

export function register(program: Command): void {
  program
    .command("mcp")
    .description("Model Context Protocol server over stdio: one tool per agent command (identity: --agent, or the token in remote mode)")
    .option("--can <capabilities>", "the agent's capabilities, comma-separated (default: WORKLEDGER_CAN): claims take only work that requires no others")
    .action(
      cliAction(async (o, ctx) => {
        const { runMcp } = await import("../../mcp/server.js"); // the SDK only loads for this command
        const ledger = await ctx.ledger({ tokenMemory: false });
        // The client that started this server is the session its hooks record activity for (agent-setup).
        const hookIdle = () => idleFor(process.ppid);
        await runMcp({
          ledger,
          agent: ctx.agent,
          project: ctx.project,
          can: declaredCan(o),
          hookIdle,
          version: pkgVersion,
          git: (cwd, saved) => gitState(cwd, saved),
          repo: localRepository(),
          ...(ledger.info.kind === "sqlite" ? { pinForHooks: (worktree: string) => pinForHooks(worktree, ledger.info.location) } : {}),
        });
        return { data: undefined, human: () => "" };
      }),
    );

  program
    .command("agent-setup")
    .description("write the client's MCP entry, session hooks (context at start, keepalive, a warning at end) and instructions (--print: only show them)")
    .option("--client <client>", "claude|codex|generic", "generic")
    .option("--dir <dir>", "the project folder the client runs in", ".")
    .option("--can <capabilities>", "the agent's capabilities, comma-separated (default: WORKLEDGER_CAN), written into its MCP server's settings")
    .option("--print", "show the files instead of writing them")
    .option("--replace", "take over files set up there for another agent (their hooks are removed)")
    .action(cliAction(async (o, ctx) => agentSetup(o, ctx)));
}
