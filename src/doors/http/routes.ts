/**
 * The HTTP API, generated from the operation table (core/operations.ts):
 * one route per method and path, answered by the operation it names (or, on
 * a shared path, by the one the query chooses). Inputs are the body (or the
 * query for GET) plus path parameters; the agent always comes from the token.
 */
import * as z from "zod";
import { OPERATIONS, type Operation } from "../../core/operations.js";
import { inputs } from "../../core/schemas.js";
import { once } from "../../core/lazy.js";

export type Input = Record<string, unknown>;

export interface Route {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  /** The operation answering it (on a shared path, the one without a `when`). */
  op: Operation;
}

/** Every route, each method and path once. */
export const routes = once((): Route[] => {
  const out: Route[] = [];
  for (const op of OPERATIONS) {
    if (!op.http || op.http.when) continue;
    for (const path of op.http.paths) out.push({ method: op.http.method, path, op });
  }
  return out;
});

/** An operation's input schema as JSON Schema (for OpenAPI and for reading query strings). */
export function jsonSchemaOf(op: Operation): { properties?: Record<string, { type?: unknown }>; required?: string[] } & Record<string, unknown> {
  const json = z.toJSONSchema(inputs[op.input] as z.ZodType, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

const queryTypes = new Map<string, Map<string, "number" | "boolean" | "list">>();

/** Query strings are text: fields the schema types as numbers or booleans are read as such. */
export function fromQuery(op: Operation, query: Record<string, string>): Input {
  let types = queryTypes.get(op.input);
  if (!types) {
    types = new Map();
    for (const [k, v] of Object.entries(jsonSchemaOf(op).properties ?? {})) {
      if (v.type === "integer" || v.type === "number") types.set(k, "number");
      else if (v.type === "boolean") types.set(k, "boolean");
      else if (v.type === "array") types.set(k, "list");
    }
    queryTypes.set(op.input, types);
  }
  const input: Input = {};
  for (const [k, v] of Object.entries(query)) {
    const type = types.get(k);
    // A list travels comma-separated (labels=api,ui); an empty value is an empty list.
    input[k] = type === "number" && /^\d+$/.test(v) ? Number(v) : type === "boolean" ? v === "true" : type === "list" ? (v === "" ? [] : v.split(",")) : v;
  }
  // The caller's work tree travels as its HEAD and branch (what freshness compares); head=none: it stands in none.
  if (input.head === "none") input.git = null;
  else if (typeof input.head === "string") {
    input.git = { head: input.head, branch: typeof input.git_branch === "string" ? input.git_branch : null, dirty: false };
  }
  delete input.head;
  delete input.git_branch;
  return input;
}
