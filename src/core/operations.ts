/**
 * Every operation of the ledger, defined once (DESIGN.md §8): who may call
 * it, whether it acts as the caller, its input schema, and how each door
 * reaches it. The HTTP routes and OpenAPI document, the MCP tools and the
 * remote client are generated from this table; adding an operation is one
 * entry here, its rule in the core, its rendering and its tests.
 *
 * An operation's name is the ledger method it calls with its input, except
 * for `local` operations, which run on the caller's machine (verify runs a
 * command there), so each door that offers one provides it.
 */
import type { z } from "zod";
import type { LedgerApi } from "./api.js";
import type { Access } from "./auth.js";
import { checkpointTool, claimFields, createTool, inputs, releaseTool, spendTool, updateTool, worktreeTool } from "./schemas.js";

export type InputName = keyof typeof inputs;

export interface HttpBinding {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Its paths, most specific first: a client takes the first whose parameters the input has. */
  paths: readonly string[];
  /** Status of a success (default 200). */
  status?: number;
  /** When operations share a method and path, the query fields that choose this one (e.g. history=true). */
  when?: Readonly<Record<string, string | number | boolean>>;
  /** `:id` may be `next`, meaning `next: true` (claim the most urgent free WO). */
  idMayBeNext?: boolean;
}

export interface ToolBinding {
  name: string;
  /** For a model: when to call it and what its answers mean. */
  description: string;
  /** The tool's input schema when it cannot be derived from the operation's (zod cannot omit fields of a refined object). */
  schema?: () => z.ZodObject;
}

export interface Operation<N extends string = string> {
  name: N;
  /** One line for people (OpenAPI, help). */
  summary: string;
  input: InputName;
  access: Access;
  /** Acts as the calling agent: the door supplies `agent` (and `role`), never the caller's input. */
  actor: boolean;
  /** The door supplies the caller's work tree as `git` (recorded with it, or compared with it). */
  callerGit?: boolean;
  /** Takes the caller's capabilities as `can`: a door with a caller's token holds them to what it allows (stages.capabilitiesOf). */
  capabilities?: boolean;
  /** Without a project it answers for every project, so a door does not fill in its default project. */
  everyProject?: boolean;
  /** Runs on the caller's machine instead of through the ledger. */
  local?: boolean;
  /** Its CLI command where that is not its name in kebab-case (a person is told to run it where a door does not offer it). */
  cli?: string;
  /** The lease token travels by itself (lease-memory.ts): a claim `takes` one, a holder write `uses` it. */
  lease?: "takes" | "uses";
  http?: HttpBinding;
  tool?: ToolBinding;
}

const P = "/v1/projects/:project";
const WO = `${P}/wos/:id`;

const TABLE = [
  {
    name: "contextPull",
    summary: "Newest context per key with freshness verdicts (history=true: every entry)",
    input: "contextPull",
    access: "read",
    actor: false,
    callerGit: true,
    http: { method: "GET", paths: [`${P}/context`] },
    tool: {
      name: "context_pull",
      description: "Call first: the newest context per key with age and verdict fresh/stale (stale or none: re-check before trusting).",
    },
  },
  {
    name: "contextHistory",
    summary: "Every context entry, newest first",
    input: "contextPull",
    access: "read",
    actor: false,
    callerGit: true,
    http: { method: "GET", paths: [`${P}/context`], when: { history: true } },
  },
  {
    name: "projects",
    summary: "Projects with counts per status",
    input: "projects",
    access: "read",
    actor: false,
    everyProject: true,
    http: { method: "GET", paths: ["/v1/projects"] },
    tool: { name: "projects", description: "Every project: counts per status, policy." },
  },
  {
    name: "whoami",
    summary: "Who you are, your role and the leases you hold",
    input: "whoami",
    access: "read",
    actor: true,
    capabilities: true,
    local: true,
    tool: { name: "whoami", description: "Your agent name, role, the leases you hold, and those that lapsed in the last day (why: expired, idle, max_hold)." },
  },
  {
    name: "createProject",
    summary: "Create a project",
    input: "createProject",
    access: "write",
    actor: true,
    cli: "project create",
    http: { method: "POST", paths: ["/v1/projects"], status: 201 },
  },
  {
    name: "setPolicy",
    summary: "Set a project's policy (who may write verification commands)",
    input: "setPolicy",
    access: "admin",
    actor: true,
    cli: "project set",
    http: { method: "PATCH", paths: [P] },
  },
  {
    name: "list",
    summary: "Work orders (default: all but done and cancelled), of one project or every project",
    input: "list",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${P}/wos`, "/v1/wos"] },
    tool: { name: "list", description: "Work orders of a project (or all)." },
  },
  {
    name: "findUnclaimed",
    summary: "Open work nobody holds whose dependencies are done, most urgent first",
    input: "findUnclaimed",
    access: "read",
    actor: false,
    capabilities: true,
    http: { method: "GET", paths: [`${P}/unclaimed`] },
    tool: {
      name: "find_unclaimed",
      description: "Open work nobody holds, dependencies done, most urgent first; claim with next=true takes the first without file_conflicts.",
    },
  },
  {
    name: "get",
    summary: "One work order with its notes",
    input: "get",
    access: "read",
    actor: false,
    callerGit: true,
    http: { method: "GET", paths: [WO] },
    tool: { name: "get", description: "One work order with notes and the context linked to it. Read it before working." },
  },
  {
    name: "claim",
    summary: "Take a work order under an exclusive lease (id `next`: the most urgent free one)",
    input: "claim",
    lease: "takes",
    access: "write",
    actor: true,
    capabilities: true,
    callerGit: true,
    http: { method: "POST", paths: [`${WO}/claim`], idMayBeNext: true },
    tool: {
      name: "claim",
      description: "Take a work order under an exclusive lease (id, or next=true). Only the holder may change it. LEASE_HELD: someone else has it, pick another.",
      schema: () => claimFields,
    },
  },
  {
    name: "renew",
    summary: "Extend your live lease",
    input: "renew",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${WO}/renew`] },
    tool: { name: "renew", description: "Extend your lease now (this server already renews while you are connected)." },
  },
  {
    name: "renewAll",
    summary: "Extend every live lease you hold in the project",
    input: "renewAll",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${P}/renew`] },
  },
  {
    name: "release",
    summary: "End your lease, optionally setting a status",
    input: "release",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${WO}/release`] },
    callerGit: true,
    tool: { name: "release", description: "End your lease; status=done finishes (blocked needs a note).", schema: releaseTool },
  },
  {
    name: "update",
    summary: "Change fields and/or status (compare-and-set with if_revision)",
    input: "update",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "PATCH", paths: [WO] },
    callerGit: true,
    tool: { name: "update", description: "Change fields and/or status; the holder's status change ends its lease.", schema: updateTool },
  },
  {
    name: "addNote",
    lease: "uses",
    summary: "Append a note",
    input: "addNote",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${WO}/notes`], status: 201 },
    tool: { name: "add_note", description: "A note every agent sees." },
  },
  {
    name: "create",
    summary: "Create work orders atomically",
    input: "create",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${P}/wos`], status: 201 },
    tool: { name: "create", description: "Create work orders: one (its fields here) or items (all or none). One item per affected system.", schema: createTool },
  },
  {
    name: "spend",
    lease: "uses",
    summary: "Record tokens and cost against your attempt (source: running totals, only growth is added)",
    input: "spend",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${WO}/spend`], status: 201 },
    tool: {
      name: "spend",
      description: "Report tokens/cost used on a WO, after each phase (enrich|execute|review|verify).",
      schema: spendTool,
    },
  },
  {
    name: "attempts",
    summary: "A work order's attempts (claims), how each ended and what it cost",
    input: "attempts",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${WO}/attempts`, `${P}/attempts`] },
  },
  {
    name: "report",
    summary: "Spend, attempts and outcomes over a window, by agent, phase, label, WO or model",
    input: "report",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${P}/report`] },
  },
  {
    name: "attention",
    summary: "What needs a human: blocked and dead-lettered work, failed verifications, agents losing leases, refused writes",
    input: "attention",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${P}/attention`] },
  },
  {
    name: "agents",
    summary: "Every agent seen in a window: last activity, leases held now, attempts, done, lost, spend, and whether it is gone",
    input: "agents",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${P}/agents`] },
  },
  {
    name: "flow",
    summary: "Flow over a window: created, claimed, done and expired per interval, the queue's depth, time from created to done, and spend by agent and phase",
    input: "flow",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${P}/flow`] },
  },
  {
    name: "verifyCommand",
    summary: "The verification command you may run now (pinned at your claim)",
    input: "verifyCommand",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "GET", paths: [`${WO}/verification`] },
  },
  {
    name: "recordVerification",
    summary: "Record the result of running the verification command",
    input: "verification",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${WO}/verification`], status: 201 },
  },
  {
    name: "verify",
    summary: "Run the verification command of a work order you hold, here, and record the result",
    input: "verify",
    lease: "uses",
    access: "write",
    actor: true,
    local: true,
    tool: {
      name: "verify",
      description:
        "Run the verification command of a WO you hold here and record the result (with the command). A long one reports progress every 15 s when your call asks for it (a progressToken), so your client's request timeout does not end it; else raise that timeout.",
    },
  },
  {
    name: "branch",
    summary: "A work order's git branch, created from the repository's default branch if it does not exist",
    input: "branch",
    access: "read",
    actor: false,
    local: true,
  },
  {
    name: "holding",
    summary: "A work order you hold, with its checkpoints (refused unless your lease is live)",
    input: "holding",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "GET", paths: [`${WO}/lease`] },
  },
  {
    name: "recordCheckpoint",
    summary: "Record a checkpoint commit of a work order you hold",
    input: "checkpoint",
    lease: "uses",
    access: "write",
    actor: true,
    http: { method: "POST", paths: [`${WO}/checkpoints`], status: 201 },
  },
  ...webhookOperations(),
  {
    name: "checkCommits",
    summary: "Judge commits by the lease their Work-Order and Lease-Token trailers name: made while it was live, or not",
    input: "checkCommits",
    access: "read",
    actor: false,
    http: { method: "POST", paths: [`${P}/commits/check`] },
  },
  {
    name: "worktree",
    summary:
      "A git worktree for your attempt on a work order you hold, on its branch as it is (commits after its last checkpoint are named in warnings; prune: remove finished ones)",
    input: "worktree",
    lease: "uses",
    access: "write",
    actor: true,
    local: true,
    tool: {
      name: "worktree",
      description: "Your git worktree for a WO you hold (path), on its branch as it is (warnings name commits after its last checkpoint). Work there.",
      schema: worktreeTool,
    },
  },
  {
    name: "checkpoint",
    summary: "Commit your work tree's changes, tracked and untracked, to the branch of a work order you hold, recorded under your lease",
    input: "commitCheckpoint",
    lease: "uses",
    access: "write",
    actor: true,
    local: true,
    tool: { name: "checkpoint", description: "Commit your worktree's changes to the WO's branch under your lease; a takeover starts from them.", schema: checkpointTool },
  },
  {
    name: "contextPut",
    lease: "uses",
    summary: "Save context for the next agent",
    input: "contextPut",
    access: "write",
    actor: true,
    callerGit: true,
    http: { method: "POST", paths: [`${P}/context`], status: 201 },
    tool: { name: "context_put", description: "Before you stop: save what the next agent needs (id links a work order)." },
  },
  {
    name: "history",
    summary: "Event log of a work order, or of a project",
    input: "history",
    access: "read",
    actor: false,
    http: { method: "GET", paths: [`${WO}/history`, `${P}/history`] },
    tool: { name: "history", description: "Event log of a work order (id) or project, newest last." },
  },
] as const satisfies readonly Operation[];

export const OPERATIONS: readonly Operation[] = TABLE;
/** The ledger's methods the table names (local operations run on the caller's machine instead: see above). */
export type LedgerOperation = Exclude<(typeof TABLE)[number], { local: true }>["name"];

/** Webhook subscriptions: an admin's (core/webhooks.ts); `serve` delivers. */
function webhookOperations() {
  const W = "/v1/webhooks";
  const one = <N extends string>(name: N, summary: string, method: HttpBinding["method"], path: string, cli: string): Operation<N> => ({
    name,
    summary,
    input: "webhook",
    access: "admin",
    actor: true,
    everyProject: true,
    cli,
    http: { method, paths: [path] },
  });
  return [
    {
      name: "webhookAdd",
      summary: "Subscribe a URL to events (its signing secret is shown this once)",
      input: "webhookAdd",
      access: "admin",
      actor: true,
      everyProject: true,
      cli: "webhook add",
      http: { method: "POST", paths: [W], status: 201 },
    },
    {
      name: "webhookList",
      summary: "Webhook subscriptions and their health",
      input: "webhookList",
      access: "admin",
      actor: true,
      everyProject: true,
      cli: "webhook list",
      http: { method: "GET", paths: [W] },
    },
    one("webhookPause", "Stop delivering to a subscription until resumed (events wait)", "POST", `${W}/:id/pause`, "webhook pause"),
    one("webhookResume", "Deliver to a paused or suspended subscription again, from where it stopped", "POST", `${W}/:id/resume`, "webhook resume"),
    one("webhookTest", "Ask the server to send a subscription a test message now", "POST", `${W}/:id/test`, "webhook test"),
    one("webhookDelete", "Delete a subscription", "DELETE", `${W}/:id`, "webhook delete"),
  ] as const satisfies readonly Operation[];
}

/** The parameters of a path (`/v1/projects/:project/wos/:id` → project, id). */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
}

/**
 * The operation an input is for: among operations sharing `op`'s method and
 * path, the one whose `when` the input matches (contextPull with
 * history=true is contextHistory), else `op` itself.
 */
export function resolve(op: Operation, input: Readonly<Record<string, unknown>>): Operation {
  const alike = chosenByQuery.get(op);
  if (alike === undefined) return op;
  return alike.find((o) => Object.entries(o.http?.when ?? {}).every(([k, v]) => input[k] === v)) ?? op;
}

/** For each operation, the others on its method and path that a query chooses (contextPull: contextHistory); most have none. */
const chosenByQuery = new Map<Operation, Operation[]>();
for (const op of OPERATIONS) {
  const h = op.http;
  if (!h) continue;
  const alike = OPERATIONS.filter((o) => o !== op && o.http?.when && o.http.method === h.method && o.http.paths.some((p) => h.paths.includes(p)));
  if (alike.length) chosenByQuery.set(op, alike);
}

/** The fields of an operation's input schema (every input is an object schema). */
export const inputFields = (op: Operation): Record<string, unknown> => (inputs[op.input] as unknown as { shape: Record<string, unknown> }).shape;

/** Calls the ledger method an operation names (not for `local` operations). */
export function callLedger(ledger: LedgerApi, op: Operation, input: unknown): Promise<unknown> {
  const method = (ledger as unknown as Record<string, ((i: unknown) => Promise<unknown>) | undefined>)[op.name];
  if (op.local || typeof method !== "function") throw new Error(`operation ${op.name} is not a ledger call`);
  return method.call(ledger, input);
}
