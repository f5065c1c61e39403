/**
 * `agent-setup`: client integration in one step (DESIGN.md §9). For a client
 * it writes (or with --print shows) every file the client reads: the MCP
 * server entry, the hooks that pull context at session start, keep the
 * agent's leases alive while it lives and warn at session end, and the
 * instructions. JSON files are merged into what is there; instructions are
 * appended once. Every command embeds the absolute paths and the ledger, so
 * a hook works whatever the client's environment.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LedgerError } from "../../../core/errors.js";
import { excludeFromGit } from "../../../exec/git.js";
import type { Ctx, Opts, Result } from "../invocation.js";
import { str } from "../invocation.js";
import { declaredCan } from "../operation.js";
import { sessionDir } from "../sessions.js";

const CLI = fileURLToPath(new URL("../main.js", import.meta.url));
const CLIENTS = ["claude", "codex", "generic"] as const;
type Client = (typeof CLIENTS)[number];

export const AGENT_INSTRUCTIONS = `## Coordinating through workledger
You share work with other agents through the workledger MCP tools. Never assume you are alone.
1. context_pull first. If the verdict is stale or none, verify before trusting it.
2. find_unclaimed, then claim one work order (or claim with next=true). A LEASE_HELD error means another agent has it: pick another, never work on it.
3. get it and work only within its scope and files. The server sends your lease token and renews your lease while you are connected. A LEASE_LOST error means stop at once.
4. add_note for progress and findings; verify runs its verification command.
5. Finish with release status=done, or status=blocked with a note saying what failed.
6. context_put (with the work order's id) what you learned, changed and left unfinished before you stop.
7. spend: report the tokens or cost of each phase (enrich, execute, review, verify) on the work order, unless your client's session hook reports them for you.`;

const MARK = "## Coordinating through workledger";

function env(ctx: Ctx, can: string[] | undefined): Record<string, string> {
  const e: Record<string, string> = { WORKLEDGER_AGENT: ctx.agent ?? "<agent-name>" };
  if (ctx.project) e.WORKLEDGER_PROJECT = ctx.project;
  if (can !== undefined) e.WORKLEDGER_CAN = can.join(",");
  const remote = process.env.WORKLEDGER_URL;
  if (remote) {
    e.WORKLEDGER_URL = remote;
    e.WORKLEDGER_TOKEN = "<this agent's token>";
    delete e.WORKLEDGER_AGENT; // the token decides
  } else if (ctx.databaseUrl) e.WORKLEDGER_DATABASE_URL = ctx.databaseUrl;
  else if (ctx.db) e.WORKLEDGER_DB = ctx.db;
  return e;
}

const sh = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The hook commands, as a shell runs them: `$PPID` is the client process that ran the hook. */
function hooks(e: Record<string, string>) {
  const run = (args: string) =>
    `env ${Object.entries(e)
      .map(([k, v]) => sh(`${k}=${v}`))
      .join(" ")} ${sh(process.execPath)} ${sh(CLI)} ${args}`;
  return {
    /** Context for the model (a session-start hook's stdout is shown to it). */
    start: run("context-pull"),
    /** Renews the agent's leases while the client lives; detached, so the hook returns at once. */
    keepalive: `nohup ${run("keepalive --pid $PPID")} >/dev/null 2>&1 &`,
    /** Records the session's token use against the agent's attempts (the hook's JSON on stdin names the transcript). */
    spend: run("spend --from-transcript -"),
    /** Warns (stderr) when the agent leaves leases or no context behind. */
    end: run("agent-check"),
    /** Each tool use: the agent is active, so its keep-alive keeps holding its leases (a plain touch: it runs on every tool call). */
    active: `touch ${sh(sessionDir())}/"$PPID.active" 2>/dev/null || true`,
  };
}

type Files = Record<string, string>;

function filesFor(client: Client, server: { command: string; args: string[]; env: Record<string, string> }, dir: string): Files {
  const h = hooks(server.env);
  const json = (path: string, add: Record<string, unknown>) => JSON.stringify(merge(readJson(join(dir, path)), add), null, 2) + "\n";
  const appended = (path: string) => {
    const had = existsSync(join(dir, path)) ? readFileSync(join(dir, path), "utf8") : "";
    return had.includes(MARK) ? had : `${had}${had && !had.endsWith("\n") ? "\n" : ""}${had ? "\n" : ""}${AGENT_INSTRUCTIONS}\n`;
  };
  if (client === "claude") {
    const command = (c: string) => ({ hooks: [{ type: "command", command: c }] });
    // Its own server entry is written whole, never merged: a committed one's args went in front of ours (thirtieth trials).
    const mcp = merge(readJson(join(dir, ".mcp.json")), { mcpServers: {} });
    (mcp.mcpServers as Record<string, unknown>).workledger = server;
    return {
      ".mcp.json": JSON.stringify(mcp, null, 2) + "\n",
      ".claude/settings.json": json(".claude/settings.json", {
        hooks: { SessionStart: [command(h.start), command(h.keepalive)], PostToolUse: [command(h.active)], SessionEnd: [command(h.spend), command(h.end)] },
      }),
      "CLAUDE.md": appended("CLAUDE.md"),
    };
  }
  if (client === "codex") {
    const toml = (v: Record<string, string>) =>
      `{ ${Object.entries(v)
        .map(([k, x]) => `${k} = ${JSON.stringify(x)}`)
        .join(", ")} }`;
    // Codex has no session hooks: its MCP entry (the server keeps leases alive while connected) and the instructions.
    const entry = `[mcp_servers.workledger]\ncommand = ${JSON.stringify(server.command)}\nargs = ${JSON.stringify(server.args)}\nenv = ${toml(server.env)}\n`;
    return { "codex-config.toml": entry, "AGENTS.md": appended("AGENTS.md") };
  }
  const recipe = [
    "# Source this in the shell your agent runs in (or run these three steps from its session hooks).",
    "# At session start: what the previous agent left.",
    h.start,
    "# While this shell lives: keep your leases alive (they lapse one TTL after it ends).",
    // The shell that sources this is the session: `$$` (a replacer function: in a replacement string "$$" would be one "$").
    h.keepalive.replace("$PPID", () => "$$"),
    "# After a phase of work: what it cost (if your client keeps a Claude Code-style transcript, spend --from-transcript PATH reads it).",
    "# workledger spend --id N --phase execute --model MODEL --tokens-in N --tokens-out N",
    "# At session end: warn about leases held or context not saved.",
    `trap ${sh(h.end)} EXIT`,
    "",
  ].join("\n");
  return { "workledger-session.sh": recipe, "mcp.json": JSON.stringify({ mcpServers: { workledger: server } }, null, 2) + "\n", "AGENTS.md": appended("AGENTS.md") };
}

function readJson(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new LedgerError("VALIDATION", `${path}: not a JSON object; fix it or move it away, then run agent-setup again`, {
    details: { issues: [{ field: "dir", message: "unreadable JSON file" }] },
  });
}

/** The workledger server entry the client's MCP file there has, if any. */
function previousServer(dir: string, client: Client): { env?: Record<string, string> } | undefined {
  const file = client === "claude" ? ".mcp.json" : client === "generic" ? "mcp.json" : null;
  if (file === null || !existsSync(join(dir, file))) return undefined;
  const servers = readJson(join(dir, file)).mcpServers as Record<string, { env?: Record<string, string> }> | undefined;
  return servers?.workledger;
}

type ClaudeSettings = { hooks?: Record<string, { hooks?: { command?: unknown }[] }[]> };
const SETTINGS = [".claude", "settings.json"];
/** The work tree's Claude settings, or null when it has none. */
const claudeSettings = (dir: string): ClaudeSettings | null => (existsSync(join(dir, ...SETTINGS)) ? (readJson(join(dir, ...SETTINGS)) as ClaudeSettings) : null);

/** Takes the hook commands `gone` (those agent-setup wrote for the agent set up there before) out of the Claude settings. */
function dropHooks(dir: string, gone: readonly string[]): void {
  const settings = claudeSettings(dir);
  if (settings === null) return;
  for (const [event, groups] of Object.entries(settings.hooks ?? {})) {
    if (!Array.isArray(groups)) continue;
    settings.hooks![event] = groups.filter((g) => !(g.hooks ?? []).every((h) => typeof h.command === "string" && gone.includes(h.command)));
  }
  writeFileSync(join(dir, ...SETTINGS), JSON.stringify(settings, null, 2) + "\n");
}

/** The hook commands of the work tree's Claude settings that are not among `ours` (thirtieth trials: a committed one stole keys). */
function foreignHooks(dir: string, ours: readonly string[]): string[] {
  const settings = claudeSettings(dir);
  if (settings === null) return [];
  const commands = Object.values(settings.hooks ?? {}).flatMap((groups) => (Array.isArray(groups) ? groups.flatMap((g) => g.hooks ?? []) : []));
  return commands.map((h) => h.command).filter((c): c is string => typeof c === "string" && !ours.includes(c));
}

/** Objects merge key by key; arrays gain the entries they do not have yet (hooks run again only once). */
function merge(into: Record<string, unknown>, add: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...into };
  for (const [k, v] of Object.entries(add)) {
    const had = out[k];
    if (Array.isArray(v)) out[k] = [...(Array.isArray(had) ? had : []), ...v.filter((x) => !(Array.isArray(had) && had.some((y) => JSON.stringify(y) === JSON.stringify(x))))];
    else if (typeof v === "object" && v !== null && typeof had === "object" && had !== null && !Array.isArray(had))
      out[k] = merge(had as Record<string, unknown>, v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export async function agentSetup(o: Opts, ctx: Ctx): Promise<Result> {
  const client = str(o.client) ?? "generic";
  if (!(CLIENTS as readonly string[]).includes(client)) {
    throw new LedgerError("VALIDATION", `client: must be one of ${CLIENTS.join(", ")}, got ${JSON.stringify(client)}`, {
      details: { issues: [{ field: "client", message: "unknown client" }] },
    });
  }
  const dir = resolve(str(o.dir) ?? ".");
  const server = { command: process.execPath, args: [CLI, "mcp"], env: env(ctx, declaredCan(o)) };
  // One client's files name one agent: written over, another agent's client there would act as this one, and keep its
  // hooks beside these (thirty-second trials: dave's .mcp.json became bob's, dave's keep-alive and spend hooks stayed).
  const before = previousServer(dir, client as Client);
  const other = before?.env?.WORKLEDGER_AGENT;
  if (other !== undefined && other !== server.env.WORKLEDGER_AGENT && o.replace !== true && o.print !== true)
    throw new LedgerError(
      "VALIDATION",
      `${dir} is set up for agent ${other}: its client's files name one agent, and written over, ${other}'s client there would act as you; nothing was written`,
      {
        hint: `set yours up where you work (your worktree: workledger worktree --id N), or pass --replace to take these over (${other}'s hooks there are removed)`,
        details: { issues: [{ field: "dir", message: `set up for ${other}` }], agent: other },
      },
    );
  if (before?.env !== undefined && o.print !== true) dropHooks(dir, Object.values(hooks(before.env)));
  const foreign = client === "claude" ? foreignHooks(dir, Object.values(hooks(server.env))) : [];
  const files = filesFor(client as Client, server, dir);
  const print = o.print === true;
  // A settings file the work tree brought (a previous holder's commit) may run anyone's commands in this agent's client.
  let warnings: string[] = foreign.length
    ? [
        `.claude/settings.json already holds ${foreign.length} hook command(s) workledger did not write, which your client runs outside any sandbox: read them before you start it (${JSON.stringify(foreign[0])}${foreign.length > 1 ? ", …" : ""})`,
      ]
    : [];
  if (!print) {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    // They name this agent and run its commands: committed (a checkpoint takes every file), the next holder's client would run
    // them as this agent (twenty-eighth trials). Kept out of git; one git already tracks is said.
    const agent = server.env.WORKLEDGER_AGENT;
    const named = excludeFromGit(dir, Object.keys(files)).filter((p) => agent !== undefined && files[p]!.includes(agent));
    warnings = [...warnings, ...named.map((p) => `${p} is tracked by git and now names ${agent}: do not commit it (git restore ${p} after your session)`)];
  }
  const data = { client, dir, written: !print, server, files, instructions: AGENT_INSTRUCTIONS, ...(warnings.length ? { warnings } : {}) };
  const human = () =>
    print
      ? Object.entries(files)
          .map(([path, content]) => `==> ${path} <==\n${content}`)
          .join("\n")
      : `wrote ${Object.keys(files).join(", ")} in ${dir}${client === "codex" ? "\n(codex-config.toml: add it to ~/.codex/config.toml)" : ""}`;
  return { data, human, ...(warnings.length ? { warnings } : {}) };
}
