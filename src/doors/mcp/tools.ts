/**
 * The MCP tool list, generated from the operation table: each operation with
 * a tool binding, its input schema derived from the shared schemas (minus
 * what the server fills in: the agent and its role, and the caller's work
 * tree), and a description written for a model.
 */
import * as z from "zod";
import { OPERATIONS, type Operation } from "../../core/operations.js";
import { inputs } from "../../core/schemas.js";

export interface ToolDef {
  name: string;
  description: string;
  schema: z.ZodObject;
  op: Operation;
}

const omit = (s: z.ZodObject, keys: string[]) => s.omit(Object.fromEntries(keys.filter((k) => k in s.shape).map((k) => [k, true])) as never) as z.ZodObject;

function toolSchema(op: Operation): z.ZodObject {
  const base = op.tool?.schema?.() ?? (inputs[op.input] as z.ZodObject);
  // Project may come from the server's default (--project / WORKLEDGER_PROJECT).
  return omit(base, ["agent", "role", ...(op.callerGit ? ["git"] : [])]).partial({ project: true } as never) as z.ZodObject;
}

export const TOOLS: ToolDef[] = OPERATIONS.flatMap((op) => (op.tool ? [{ name: op.tool.name, description: op.tool.description, schema: toolSchema(op), op }] : []));

/** JSON Schema for tools/list, as compact as the schemas allow. */
export function jsonSchema(s: z.ZodObject): Record<string, unknown> {
  const j = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}
