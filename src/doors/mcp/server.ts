/**
 * `workledger mcp`: a Model Context Protocol server over stdio. Tool inputs
 * are validated by the core's schemas (the same as the CLI's and the HTTP
 * API's), results are the JSON the CLI prints with --json, and failures are
 * tool errors carrying the same {"error":{code,message,hint,details}} body.
 * stdout belongs to the protocol: anything else goes to stderr.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { LedgerApi } from "../../core/api.js";
import { LedgerError, isLedgerError } from "../../core/errors.js";
import { judgedOnBranches, type LocalRepository } from "../../core/freshness.js";
import { CAP_FIELDS, type GitState } from "../../core/types.js";
import { verifyWorkOrder } from "../../exec/verify.js";
import { checkpoint } from "../../exec/checkpoint.js";
import { worktree, worktreeOf, type WorktreeResult } from "../../exec/worktree.js";
import { finishHere, handoverHere } from "../finish-here.js";
import { whoami, type Whoami } from "../../core/whoami.js";
import { callLedger, resolve } from "../../core/operations.js";
import { patiently } from "../../core/retry.js";
import { mapLeaseMemory, withLeaseMemory, type LeaseMemory } from "../../core/lease-memory.js";
import { KeepAlive } from "../keep-alive.js";
import { LIVENESS_TTL_MS, livenessTtl } from "../../core/liveness.js";
import { inItsProject, searchedIn } from "../../core/steps.js";
import { jsonSchema, MCP_DIALECT, TOOLS } from "./tools.js";
import { utf8Filter } from "./utf8-filter.js";

export interface McpOptions {
  ledger: LedgerApi;
  /** Identity for every call of a local ledger; a remote one knows the caller by its token. */
  agent: string | undefined;
  /** Used when a call names no project. */
  project: string | undefined;
  /** The agent's capabilities (--can, WORKLEDGER_CAN): the server's setting, never a model's argument. */
  can?: string[] | undefined;
  /** How long ago the client's hooks last recorded the agent doing something (ms), if they do; tool calls count too. */
  hookIdle?: () => number | undefined;
  version: string;
  /**
   * The git state of a work tree (default: the server's working directory, the client's), recorded with context and verify;
   * `saved`: as context-put records it (changes hidden from git status count: exec/git.ts hiddenChanges).
   */
  git: (cwd?: string, saved?: boolean) => GitState | null;
  /** The server's repository, where context saved on another branch is judged against that branch (none: not judged so). */
  repo?: LocalRepository;
  /** How often a verification the client asked progress of says it still runs (default PROGRESS_EVERY_MS). */
  progressEveryMs?: number;
  /** Makes the git hooks run from the model's own shell in a worktree find this ledger (cli/ledger-config.ts pinForHooks); warnings. */
  pinForHooks?: (worktree: string) => string[];
}

type Args = Record<string, unknown>;

/** Under the SDK's default request timeout (60 s), with room for a slow turn. */
const PROGRESS_EVERY_MS = 15_000;

/** Operations that run on this machine rather than through the ledger (see core/operations.ts). */
const LOCAL: Record<string, (l: LedgerApi, a: Args, o: McpOptions) => Promise<unknown>> = {
  // The core's schemas are the check (hence the casts).
  verify: (l, a, o) => verifyWorkOrder(l, a as never, { git: (cwd) => o.git(cwd), serverDir: true }),
  whoami: (l, a) => whoami(l, a as never),
  worktree: async (l, a, o) => {
    const made = await worktree(l, a as never);
    const pinned = "path" in made && o.pinForHooks ? o.pinForHooks(made.path) : [];
    return pinned.length ? { ...made, warnings: [...((made as WorktreeResult).warnings ?? []), ...pinned] } : made;
  },
  checkpoint: (l, a) => checkpoint(l, a as never),
};

/** Said at initialize: the loop, and what the server does for the agent. */
export const INSTRUCTIONS = [
  "workledger: a shared queue of work orders; claim one before working on it, so no two agents do the same work.",
  "Loop: context_pull; find_unclaimed; claim (id, or next=true); get and work only within its scope and files; add_note as you go;",
  "verify (it runs in your worktree for the work order when you made one, else in this server's working directory, your client's, unless you give dir, a directory of that repository; without your secrets, sandboxed where bubblewrap is installed); context_put (with id, from your worktree, before you release) what the next agent needs; release with status=done (or status=blocked and a note).",
  "This server remembers your lease tokens and renews your leases (a minute at a time) while you are connected and active: never renew by hand; with no tool call for the project's idle limit (default 20 minutes) you lose them, so add_note your progress when you work long.",
  "LEASE_HELD: someone else holds it, pick another (unless it says the lease is yours: then carry on, this session keeps it alive). LEASE_LOST: stop working on that work order. whoami lists the leases you hold (one this session does not keep alive says so: claim it again) and the ledger and project in use.",
  "In a project with stages, take your stage's work (claim next=true, stage=…) and hand it on when your part is done (release stage=…); claims take only work whose requires your capabilities (this server's WORKLEDGER_CAN) cover.",
  "Agents on one machine share the ledger named by WORKLEDGER_DB, else by the .workledger file at the git repository's root (workledger init writes it), else ~/.workledger.",
].join(" ");

const KEPT_ALIVE = `this session holds the lease ${LIVENESS_TTL_MS / 1000}s at a time (or the shorter ttl you asked for) and renews it after a third of that (every ${LIVENESS_TTL_MS / 3000}s) while you are connected and active (up to max_hold): it lapses within a minute after the session ends, or when you make no tool call for the project's idle limit`;

/**
 * whoami in a session: which of the agent's leases this session keeps alive.
 * One another session of the same name took (a session that ended and was
 * started again: twelfth MCP trial) lapses within a minute unless claimed
 * again here, which adopts it.
 */
function keptAliveHere(w: Whoami, memory: LeaseMemory): Whoami & { hint?: string } {
  const leases = w.leases.map((l) => {
    const mine = memory.recall(l.project, l.id);
    return { ...l, kept_alive: mine !== undefined && !mine.lost && mine.token === l.token };
  });
  // Each named with its project: whoami lists every project's, and a bare id claims the session's project's (nineteenth MCP trial).
  const name = (l: { project: string; id: number }) => `${l.project} WO-${l.id}`;
  // This session held it under an earlier lease: the session that claimed it again after that one ended works on it
  // (twenty-first MCP trial: told to claim it, a fenced session took over a live session's work).
  const superseded = leases.filter((l) => !l.kept_alive && (memory.recall(l.project, l.id)?.token ?? Infinity) < l.token);
  const orphans = leases.filter((l) => !l.kept_alive && !superseded.includes(l));
  const hints = [
    ...(superseded.length
      ? [
          `${superseded.map(name).join(", ")}: your lease in this session ended, and another session under your name claimed it again (lease ${superseded.map((l) => l.token).join(", ")}): leave it to that session, and take other work`,
        ]
      : []),
    ...(orphans.length
      ? [
          `${orphans.map(name).join(", ")}: taken by another session under your name, and not kept alive by this one: claim each again with its project (${orphans.map((l) => `claim project=${l.project} id=${l.id}`).join("; ")}; it answers that it is yours) to keep it, or it lapses when its lease expires (expires_at; within a minute when the other session kept it alive)`,
        ]
      : []),
  ];
  return { ...w, leases, ...(hints.length ? { hint: hints.join("; ") } : {}) };
}

/** A first guess at create is one work order: its fields at the top level become the one item. */
function oneItem(args: Args): Args {
  const { project, idempotency_key, new_project, items, ...fields } = args;
  if (items !== undefined) {
    const extra = Object.keys(fields);
    if (extra.length)
      throw new LedgerError("VALIDATION", `${extra.join(", ")}: give either items (several work orders) or one work order's fields, not both`, {
        hint: "put those fields inside each item, or leave out items to create one work order; nothing was written",
        details: { issues: extra.map((field) => ({ field, message: "given beside items" })) },
      });
    return args;
  }
  return { project, idempotency_key, new_project, items: [fields] };
}
const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

/**
 * The server, and its session's keep-alive: every lease the session claims
 * is remembered, its token sent with the session's later writes of that WO,
 * and the lease renewed while the client is connected (stop() when it leaves).
 */
export function createMcpServer(opts: McpOptions): Server & { keepAlive: KeepAlive } {
  const server = new Server({ name: "workledger", version: opts.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  const memory = mapLeaseMemory();
  const ledger = withLeaseMemory(opts.ledger, memory);
  // The agent is active while it calls tools (or its client's hooks say it works): a hung one loses its leases (issue 25).
  let lastCall = Date.now();
  const idle = () => Math.min(Date.now() - lastCall, opts.hookIdle?.() ?? Infinity);
  const keepAlive = new KeepAlive(ledger, memory, opts.agent, idle);
  const remote = opts.ledger.info.kind === "remote";
  const listed = TOOLS.map((t) => {
    const inputSchema = jsonSchema(t.schema) as { type: "object"; required?: string[] };
    // Without a default project (--project, WORKLEDGER_PROJECT) every call must name one: say so in the schema.
    if (opts.project === undefined && t.needsProject) inputSchema.required = [...new Set([...(inputSchema.required ?? []), "project"])];
    return { name: t.name, description: t.description, inputSchema, ...(t.op.access === "read" ? { annotations: { readOnlyHint: true } } : {}) };
  });

  // Only what a tool advertises is taken (issue 23, MCP trial: hidden arguments were accepted, so the schema lied).
  const advertised = new Map(listed.map((t) => [t.name, Object.keys((t.inputSchema as { properties?: object }).properties ?? {})]));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const { name, arguments: given } = req.params;
    // A long verification tells a client that asked for progress that it still runs, so its request timeout (60 s in the
    // SDK) starts again (twenty-third MCP trial: a 75 s verification timed out in the client).
    const progressToken = req.params._meta?.progressToken;
    const every = opts.progressEveryMs ?? PROGRESS_EVERY_MS;
    let beats = 0;
    const beat =
      name === "verify" && progressToken !== undefined
        ? setInterval(() => {
            beats++;
            extra
              .sendNotification({
                method: "notifications/progress",
                params: { progressToken, progress: beats, message: `the verification still runs (${(beats * every) / 1000}s)` },
              })
              .catch(() => undefined);
          }, every)
        : undefined;
    try {
      return await callTool(name, given);
    } finally {
      clearInterval(beat);
    }
  });

  const callTool = async (name: string, given: Record<string, unknown> | undefined): Promise<CallToolResult> => {
    lastCall = Date.now();
    try {
      const tool = BY_NAME.get(name);
      if (!tool) throw new LedgerError("VALIDATION", `unknown tool ${name}`, { hint: `tools: ${[...BY_NAME.keys()].join(", ")}` });
      const valid = advertised.get(name) ?? [];
      // A WO's caps are left out of create's schema (the list stays small) but taken as in items (thirty-first MCP trial).
      const unknown = Object.keys(given ?? {}).filter((k) => !valid.includes(k) && !(name === "create" && (CAP_FIELDS as readonly string[]).includes(k)));
      if (unknown.length)
        throw new LedgerError("VALIDATION", `${unknown.join(", ")}: not an argument of ${name}; valid: ${valid.join(", ")}`, {
          hint: "leave those out, or give them as one of the valid arguments; nothing was written",
          details: { issues: unknown.map((field) => ({ field, message: "not an argument of this tool" })) },
        });
      const args: Args = tool.name === "create" ? oneItem({ ...(given ?? {}) }) : { ...(given ?? {}) };
      if (args.project === undefined && opts.project !== undefined && !tool.op.everyProject) args.project = opts.project;
      const op = resolve(tool.op, args);
      // This session keeps its leases alive: a claim is held with the short liveness TTL, so a session that ends lets it go soon.
      const asked = args.ttl;
      // A renewal asked for by hand too (issue 23, MCP trial: renew ttl=2h held a crashed session's WO for two hours).
      if (op.name === "claim" || (op.name === "renew" && asked !== undefined)) args.ttl = livenessTtl(asked);
      const shortened = (op.name === "claim" || op.name === "renew") && args.ttl !== asked;
      // What the server fills in (identity, work tree, capabilities) is no tool's argument: refused above, never taken from the model.
      if (op.actor && opts.agent !== undefined) args.agent = opts.agent;
      // Context about a WO is stamped with the state of the model's worktree for it, where the work is, not the server's directory;
      // a finish is judged by where the WO's branch is in that worktree.
      const inWorktree = op.name === "contextPut" || op.name === "release" || op.name === "update";
      const tree = inWorktree ? await worktreeOf(ledger, args) : undefined;
      if (op.callerGit) args.git = opts.git(tree, op.name === "contextPut");
      if (op.name === "contextPut" && tree === undefined) await handoverHere(ledger, args, opts.repo);
      if (op.name === "release" || op.name === "update") await finishHere(ledger, args, opts.repo);
      if (op.capabilities && opts.can !== undefined) args.can = opts.can;
      const local = LOCAL[op.name];
      // Over a store of its own, the server rides out a database failover for the model (the remote client does so itself).
      const result =
        op.local && local ? await local(ledger, args, opts) : remote ? await callLedger(ledger, op, args) : await patiently(op, args, (input) => callLedger(ledger, op, input));
      const judged = op.callerGit && opts.repo ? judgedOnBranches(result, args.git as GitState | null, opts.repo) : result;
      // Said with the lease, so a TTL of a minute is not taken for the one asked for.
      const said = shortened ? { ...(judged as object), kept_alive: KEPT_ALIVE } : op.name === "whoami" ? keptAliveHere(result as Whoami, memory) : judged;
      return { content: [{ type: "text", text: JSON.stringify(said) }, ...keepAliveNews()] };
    } catch (e) {
      const known = isLedgerError(e) ? (inItsProject(searchedIn(e, opts.ledger.info.location), opts.project) as LedgerError) : null;
      const err = known
        ? heldElsewhere(onlyItsArguments(known, [...(advertised.get(name) ?? []), ...Object.keys(given ?? {})]), memory)
        : new LedgerError("INTERNAL", e instanceof Error ? e.message : String(e));
      if (!isLedgerError(e)) process.stderr.write(`workledger mcp: ${(e as Error)?.stack ?? String(e)}\n`);
      return { isError: true, content: [{ type: "text", text: JSON.stringify({ error: err.toJSON(MCP_DIALECT) }) }, ...keepAliveNews()] };
    }
  };
  /** Renewals that failed since the last call, as a second content block of the next result. */
  const keepAliveNews = () => {
    const failures = keepAlive.takeFailures();
    return failures.length ? [{ type: "text" as const, text: JSON.stringify({ warnings: failures }) }] : [];
  };
  keepAlive.start();
  return Object.assign(server, { keepAlive });
}

/**
 * An error's issues about fields the tool does not take (the server fills
 * them in: checkpoint's `dir`) are left out: the model cannot give them
 * (twentieth MCP trial). The message and hint say what happened.
 */
function onlyItsArguments(e: LedgerError, fields: readonly string[]): LedgerError {
  const issues = e.details?.issues;
  if (!Array.isArray(issues)) return e;
  // A field the model gave and no schema knows (inside create's items: thirty-first MCP trial) is the model's to fix.
  const kept = issues.filter(
    (i: { field?: unknown; message?: unknown }) => typeof i.field !== "string" || i.field === "" || i.message === "unknown field" || fields.includes(i.field.split(/[.[]/)[0]!),
  );
  if (kept.length === issues.length) return e;
  const { issues: _dropped, ...rest } = e.details!;
  // "Give its path" cannot be done here: the server works where its client started it (twenty-second MCP trial).
  const notRepo = issues.some((i: { field?: unknown; message?: unknown }) => i.field === "dir" && i.message === "not a git repository" && !fields.includes("dir"));
  const hint = notRepo
    ? `this server works in ${process.cwd()}, which is no git repository: start workledger mcp in the work order's repository (the working directory in your MCP client's settings)`
    : e.hintTemplate;
  return new LedgerError(e.code, e.message, {
    ...(hint !== undefined ? { hint } : {}),
    details: kept.length ? { ...rest, issues: kept } : rest,
    cause: e,
  });
}

/**
 * "Claim it first" about a WO this session holds in another project (the id
 * was taken as the default project's: twenty-second MCP trial) says which
 * project it holds it in instead.
 */
function heldElsewhere(e: LedgerError, memory: LeaseMemory): LedgerError {
  const { project, id } = (e.details ?? {}) as { project?: unknown; id?: unknown };
  if (e.code !== "NOT_HOLDER" || typeof id !== "number") return e;
  const mine = memory.all().find((l) => l.id === id && l.project !== project && !l.lost);
  if (mine === undefined) return e;
  return new LedgerError(e.code, e.message, {
    hint: `you hold WO-${id} of project ${mine.project}, not of ${String(project)}: give {{project=${mine.project}}}`,
    details: e.details ?? {},
    cause: e,
  });
}

/** Serves on stdin/stdout until the client closes the stream. */
export async function runMcp(opts: McpOptions): Promise<void> {
  const server = createMcpServer(opts);
  const closed = new Promise<void>((resolve) => (server.onclose = () => resolve()));
  void closed.then(() => server.keepAlive.stop()); // the client went away: its leases lapse one TTL from their last renewal
  const stdin = process.stdin.pipe(utf8Filter((m) => process.stdout.write(JSON.stringify(m) + "\n")));
  await server.connect(new StdioServerTransport(stdin));
  if (!opts.ledger.knowsCaller && opts.agent === undefined)
    process.stderr.write("workledger mcp: no --agent / WORKLEDGER_AGENT: tools that change the ledger will fail with NO_IDENTITY\n");
  await closed;
}
