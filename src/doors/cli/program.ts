/**
 * The workledger command line: parses, calls the core, prints. Run through
 * main.ts (the bin), which loads the bundle of cli.ts with V8's code cache.
 * Importing this module runs nothing: tests can build and run the program
 * in-process.
 */
import { Command, CommanderError } from "commander";
import { LedgerError } from "../../core/errors.js";
import * as agentCheck from "./commands/agent-check.js";
import * as context from "./commands/context.js";
import * as demo from "./commands/demo.js";
import * as history from "./commands/history.js";
import * as insights from "./commands/insights.js";
import * as git from "./commands/git.js";
import * as keepalive from "./commands/keepalive.js";
import * as leases from "./commands/leases.js";
import * as mcp from "./commands/mcp.js";
import * as spend from "./commands/spend.js";
import * as notes from "./commands/notes.js";
import * as server from "./commands/server.js";
import * as archive from "./commands/archive.js";
import * as setup from "./commands/setup.js";
import * as skill from "./commands/skill.js";
import * as webhooks from "./commands/webhooks.js";
import * as workorders from "./commands/workorders.js";
import { checkArgvUtf8 } from "./input.js";
import { fail } from "./run.js";
import { pkgVersion } from "./version.js";

export function buildProgram(): Command {
  const program = new Command("workledger")
    .description("A shared ledger of work orders with exclusive TTL leases and context handoff, for agents that never talk to each other.")
    .version(pkgVersion, "--version", "print the version")
    .option("--json", 'machine output: one JSON document on stdout, errors as {"error":{…}}')
    .option("--agent <name>", "who you are (or WORKLEDGER_AGENT); required for every change")
    .option("-p, --project <name>", "project (or WORKLEDGER_PROJECT)")
    .option("--db <path>", "SQLite ledger file (or WORKLEDGER_DB; default ~/.workledger/ledger.db)")
    .option("--database-url <url>", "use PostgreSQL instead of SQLite (or WORKLEDGER_DATABASE_URL)")
    .option("--as-admin", "act as an admin on a local ledger (or WORKLEDGER_ROLE=admin; for a person's shell, never an agent's): recorded in the events")
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  for (const m of [setup, workorders, leases, keepalive, notes, spend, insights, context, history, git, webhooks, server, archive, mcp, agentCheck, demo, skill])
    m.register(program);
  // Every subcommand inherits exit handling so usage errors become exit 2 with our error format.
  for (const cmd of program.commands) propagate(cmd);
  return program;
}

function propagate(cmd: Command): void {
  cmd.exitOverride().configureOutput({ outputError: () => undefined });
  cmd.commands.forEach(propagate);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    checkArgvUtf8(argv);
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.help" && !argv.slice(2).includes("help")) {
        // No command at all: help went to stderr; it is still a usage error.
        fail(
          new LedgerError("VALIDATION", "no command given", { hint: "run workledger --help for the commands", details: { issues: [{ field: "", message: "no command" }] } }),
          argv.includes("--json"),
        );
        return;
      }
      if (e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") {
        process.exitCode = 0;
        return;
      }
      let message = e.message.replace(/^error: /, "").replace(/\n/g, " ");
      if (e.code === "commander.unknownOption" && !/Did you mean/.test(message)) message += optionsOf(program, argv);
      fail(
        new LedgerError("VALIDATION", message, { hint: "run workledger --help, or workledger <command> --help", details: { issues: [{ field: "", message }] } }),
        argv.includes("--json"),
      );
      return;
    }
    fail(e, argv.includes("--json"));
  }
}

/** "; the options of claim: --id, --next, …": for an unknown option with no close match, what the command does take. */
function optionsOf(program: Command, argv: string[]): string {
  let cmd = program;
  for (const word of argv.slice(2).filter((a) => !a.startsWith("-"))) {
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    cmd = sub;
  }
  const flags = cmd.options.map((o) => o.long).filter((f): f is string => f !== undefined);
  return cmd === program ? "" : `; the options of ${cmd.name()}: ${flags.join(", ")} (and the global ones: workledger --help)`;
}
