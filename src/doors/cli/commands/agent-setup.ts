/**
 * `agent-setup`: the exact MCP configuration for this installation (absolute
 * paths, the caller's identity and ledger), and the instructions an agent
 * needs, ready to paste.
 */
import { fileURLToPath } from "node:url";
import { LedgerError } from "../../../core/errors.js";
import type { Ctx, Result } from "../invocation.js";

const CLI = fileURLToPath(new URL("../main.js", import.meta.url));
const CLIENTS = ["claude", "codex", "generic"] as const;

export const AGENT_INSTRUCTIONS = `## Coordinating through workledger
You share work with other agents through the workledger MCP tools. Never assume you are alone.
1. context_pull first. If the verdict is stale or none, verify before trusting it.
2. find_unclaimed, then claim one work order (or claim with next=true). A LEASE_HELD error means another agent has it: pick another, never work on it.
3. get it and work only within its scope and files. renew before lease.expires_at. A LEASE_LOST error means stop at once and claim again.
4. add_note for progress and findings; verify runs its verification command.
5. Finish with release status=done, or status=blocked with a note saying what failed.
6. context_put what you learned, changed and left unfinished before you stop.`;

function env(ctx: Ctx): Record<string, string> {
  const e: Record<string, string> = { WORKLEDGER_AGENT: ctx.agent ?? "<agent-name>" };
  if (ctx.project) e.WORKLEDGER_PROJECT = ctx.project;
  const remote = process.env.WORKLEDGER_URL;
  if (remote) {
    e.WORKLEDGER_URL = remote;
    e.WORKLEDGER_TOKEN = "<this agent's token>";
    delete e.WORKLEDGER_AGENT; // the token decides
  } else if (ctx.databaseUrl) e.WORKLEDGER_DATABASE_URL = ctx.databaseUrl;
  else if (ctx.db) e.WORKLEDGER_DB = ctx.db;
  return e;
}

export async function agentSetup(client: string, ctx: Ctx): Promise<Result> {
  if (!(CLIENTS as readonly string[]).includes(client)) {
    throw new LedgerError("VALIDATION", `client: must be one of ${CLIENTS.join(", ")}, got ${JSON.stringify(client)}`, {
      details: { issues: [{ field: "client", message: "unknown client" }] },
    });
  }
  const server = { command: process.execPath, args: [CLI, "mcp"], env: env(ctx) };
  const toml = (v: Record<string, string>) =>
    `{ ${Object.entries(v)
      .map(([k, x]) => `${k} = ${JSON.stringify(x)}`)
      .join(", ")} }`;
  let config: string;
  let where: string;
  if (client === "codex") {
    where = "Add to ~/.codex/config.toml, and the instructions to AGENTS.md:";
    config = `[mcp_servers.workledger]\ncommand = ${JSON.stringify(server.command)}\nargs = ${JSON.stringify(server.args)}\nenv = ${toml(server.env)}`;
  } else if (client === "claude") {
    where = "Add to .mcp.json in the project (or run the claude mcp add line), and the instructions to CLAUDE.md:";
    const flags = Object.entries(server.env)
      .map(([k, v]) => `-e ${k}=${JSON.stringify(v)}`)
      .join(" ");
    const add = `claude mcp add workledger ${flags} -- ${JSON.stringify(server.command)} ${server.args.map((a) => JSON.stringify(a)).join(" ")}`;
    config = `${JSON.stringify({ mcpServers: { workledger: server } }, null, 2)}\n\n# or:\n${add}`;
  } else {
    where = "MCP server definition (stdio) for any client, and the instructions for the agent's system prompt:";
    config = JSON.stringify({ mcpServers: { workledger: server } }, null, 2);
  }
  const data = { client, server, config, instructions: AGENT_INSTRUCTIONS };
  return { data, human: () => `${where}\n\n${config}\n\n${AGENT_INSTRUCTIONS}\n` };
}
