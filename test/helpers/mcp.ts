/** Connects to a real `workledger mcp` server over stdio, in a sandbox, with a tool caller that parses the JSON results. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, type Sandbox } from "./cli.ts";

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
}

export interface McpSession {
  client: Client;
  transport: StdioClientTransport;
  /** Calls a tool: its first content block as JSON, and any further blocks (keep-alive news). */
  call(name: string, args?: Record<string, unknown>): Promise<{ isError: boolean; body: any; extra: any[] }>;
}

/** A session as `agent`, with the sandbox's ledger and `env` over the test's environment (started in `cwd`, as a client starts it in its repository). */
export async function connectMcp(s: Sandbox, agent: string, env: Record<string, string> = {}, cwd?: string): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp"],
    // In the sandbox unless told: not in this repository, whose state (a dirty work tree) would leak into the results.
    cwd: cwd ?? s.dir,
    env: { ...(process.env as Record<string, string>), ...s.env, WORKLEDGER_AGENT: agent, ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: `test-${agent}`, version: "1.0.0" });
  await client.connect(transport);
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const r = (await client.callTool({ name, arguments: args })) as ToolResult;
    return { isError: r.isError === true, body: JSON.parse(r.content[0]!.text), extra: r.content.slice(1).map((c) => JSON.parse(c.text)) };
  };
  return { client, transport, call };
}
