/**
 * The MCP tool list, generated from the operation table: each operation with
 * a tool binding, its input schema derived from the shared schemas (minus
 * what the server fills in: the agent and its role, and the caller's work
 * tree), and a description written for a model.
 */
import * as z from "zod";
import { API_DIALECT, type HintDialect } from "../../core/hints.js";
import { CLI_DIALECT } from "../cli/hints.js";
import { OPERATIONS, type Operation } from "../../core/operations.js";
import { inputs, TOOL_JSON } from "../../core/schemas.js";

export interface ToolDef {
  name: string;
  description: string;
  schema: z.ZodObject;
  op: Operation;
  /** The operation needs a project: the tool's schema requires one when the server has no default. */
  needsProject: boolean;
}

const omit = (s: z.ZodObject, keys: string[]) => s.omit(Object.fromEntries(keys.filter((k) => k in s.shape).map((k) => [k, true])) as never) as z.ZodObject;

/** The tool's schema, and whether its operation needs a project (then the schema requires one when the server has no default). */
function toolSchema(op: Operation): Pick<ToolDef, "schema" | "needsProject"> {
  const base = op.tool?.schema?.() ?? (inputs[op.input] as z.ZodObject);
  const project = base.shape.project as z.ZodType | undefined;
  // Project may come from the server's default (--project / WORKLEDGER_PROJECT).
  // The server sends lease tokens itself (core/lease-memory.ts): a model should never pass one. Idempotency
  // keys are for clients that retry a lost reply; a model's tool call is answered on the session, and every
  // byte of the tool list costs it context.
  // An admin's unverified_reason is for a person's shell: the MCP server is never an admin by default. A model does
  // not set aside the capabilities its server was given (`any`): work that needs others is not its to take.
  const hidden = [
    "agent",
    "role",
    "lease_token",
    "idempotency_key",
    "keepalive",
    "idle_ms",
    "unverified_reason",
    ...(op.callerGit ? ["git", "finished_in"] : []),
    ...(op.capabilities ? ["can", "any"] : []),
  ];
  let schema = omit(base, hidden).partial({ project: true } as never) as z.ZodObject;
  // The server holds a session's lease a minute at a time and renews it (server.ts): a longer ttl is not kept (sixteenth MCP trial).
  const asked = schema.shape.ttl as z.ZodType | undefined;
  if (asked !== undefined) schema = schema.extend({ ttl: asked.describe("at most 60s is held at a time: this server renews it while you are connected") });
  return { schema, needsProject: project !== undefined && !project.safeParse(undefined).success };
}

/**
 * Hints in MCP words: an operation is its tool (one without a tool is named
 * as not offered here), a field is a JSON argument (`status=open`).
 */
const LIST_FIELDS = new Set(["acceptance", "files", "labels", "depends_on", "requires"]);
const toolOf = (name: string) => OPERATIONS.find((o) => o.name === name);
export const MCP_DIALECT: HintDialect = {
  op: (name) => toolOf(name)?.tool?.name ?? `workledger ${CLI_DIALECT.op(name)}`,
  // A field the tool takes inside `fields` (update's verification, title, …) is named there.
  field: (name, value, op) => {
    // Who the session is comes from the server's settings, never from a tool's arguments (seventeenth MCP trial: "give agent=NAME").
    if (name === "agent") return "an agent name in this MCP server's settings (WORKLEDGER_AGENT or --agent, set by a person)";
    // The server's capabilities are its settings: no tool takes `any` (thirty-fourth MCP trial: the hint offered it, claim refused it).
    if (name === "any") return "--any, which only a person's workledger claim takes (this server's capabilities are its settings: WORKLEDGER_CAN)";
    // An argument of a command a person runs is its flag (twenty-fourth MCP trial: `workledger project set verification_authors`).
    if (op !== undefined && !toolOf(op)?.tool) return CLI_DIALECT.field(name, value, op);
    const shape = TOOLS.find((t) => t.op.name === op)?.schema.shape;
    const nested = shape !== undefined && !(name in shape) && "fields" in shape;
    // A number or a switch is written as JSON writes it (sixteenth MCP trial: `"max_usd":"6"`).
    // A list field is written as a list (eighteenth MCP trial: `"depends_on":"…"` was refused as "must be an array").
    const json = value === undefined ? (LIST_FIELDS.has(name) ? "[…]" : '"…"') : /^(-?\d+(\.\d+)?|true|false)$/.test(value) ? value : JSON.stringify(value);
    return nested ? `fields={${JSON.stringify(name)}:${json}}` : API_DIALECT.field(name, value, op);
  },
  // Said once, at the end: in the middle it would split a command from its arguments.
  after: (ops) => (ops.some((o) => !toolOf(o)?.tool) ? " (a workledger command is not an MCP tool: ask a person to run it)" : ""),
};

export const TOOLS: ToolDef[] = OPERATIONS.flatMap((op) => (op.tool ? [{ name: op.tool.name, description: op.tool.description, op, ...toolSchema(op) }] : []));

/** The schema registered in TOOL_JSON that `schema` is, or was derived from by .describe(), and how it is advertised. */
function advertisedAs(schema: z.core.$ZodType): { registered: z.core.$ZodType; json: Record<string, unknown> } | undefined {
  for (let s: z.core.$ZodType | undefined = schema; s; s = s._zod.parent) {
    const json = TOOL_JSON.get(s as z.ZodType);
    if (json) return { registered: s, json };
  }
  return undefined;
}

/** Limits the server checks itself (and explains when one is broken): a model pays for each byte of the tool list. */
const CHECKED_BY_THE_SERVER = ["minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum", "pattern", "additionalProperties"];

function compact(node: unknown): void {
  if (typeof node !== "object" || node === null) return;
  const o = node as Record<string, unknown>;
  for (const k of CHECKED_BY_THE_SERVER) delete o[k];
  for (const v of Object.values(o)) compact(v);
}

/**
 * JSON Schema for tools/list, small and portable: one type per field (no
 * type arrays or anyOf), without the limits the server checks itself (it
 * refuses unknown fields, too long text or a bad project name, and says what
 * is allowed).
 */
export function jsonSchema(s: z.ZodObject): Record<string, unknown> {
  const j = z.toJSONSchema(s, {
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      const found = advertisedAs(ctx.zodSchema);
      if (!found) return;
      // A description given where the schema is used (a .describe() copy) is kept; the registered schema's own gives way to the advertised one.
      const description = found.registered === ctx.zodSchema ? undefined : ctx.jsonSchema.description;
      for (const k of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[k];
      Object.assign(ctx.jsonSchema, found.json, description ? { description } : {});
    },
  }) as { properties?: Record<string, Record<string, unknown>> } & Record<string, unknown>;
  delete j.$schema;
  // The server refuses unknown arguments itself, naming the valid ones.
  delete j.additionalProperties;
  compact(j.properties);
  return j;
}
