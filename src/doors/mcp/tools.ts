/**
 * The MCP tool list: one tool per agent command, its input schema generated
 * from the shared schemas (minus what the server fills in: the agent, and the
 * caller's git state), and a description written for a model.
 */
import * as z from "zod";
import { claimFields, inputs } from "../../core/schemas.js";

export interface ToolDef {
  name: string;
  description: string;
  schema: z.ZodObject;
}

const omit = (s: z.ZodObject, keys: string[]) => s.omit(Object.fromEntries(keys.filter((k) => k in s.shape).map((k) => [k, true])) as never) as z.ZodObject;
// Project may come from the server's default (--project / WORKLEDGER_PROJECT).
const local = (s: z.ZodObject, drop: string[] = []) => omit(s, ["agent", "role", ...drop]).partial({ project: true } as never) as z.ZodObject;

export const TOOLS: ToolDef[] = [
  { name: "context_pull", description: "Call first. Newest context each previous agent saved for the project, with age and verdict fresh/stale. Stale or none: re-check before trusting. history=true: every entry.", schema: local(inputs.contextPull, ["git"]) },
  { name: "list", description: "Work orders (default: open, claimed, blocked). status: open|claimed|blocked|done|cancelled|all.", schema: local(inputs.list) },
  { name: "find_unclaimed", description: "Open work orders nobody holds whose dependencies are done, most urgent first. file_conflicts lists held WOs touching the same files.", schema: local(inputs.findUnclaimed) },
  { name: "get", description: "One work order with its notes. Read it fully before working.", schema: local(inputs.get) },
  {
    name: "claim",
    description: "Take a work order under an exclusive lease (id, or next=true for the most urgent free one). Only the holder may change it. LEASE_HELD means someone else has it: pick another, never work on it. Keep lease.token; renew before lease.expires_at.",
    schema: local(claimFields),
  },
  { name: "renew", description: "Extend your live lease (ttl from now, default 30m). LEASE_LOST: stop working on it and claim again.", schema: local(inputs.renew) },
  { name: "release", description: "End your lease. status done|blocked|open sets it in the same step (prefer this to finish); note explains why.", schema: local(inputs.release) },
  { name: "update", description: "Change fields (scope, acceptance, ...) and/or status. Holder only while claimed. if_revision for compare-and-set.", schema: local(inputs.update) },
  { name: "add_note", description: "Append a note every agent sees. kind: progress|finding|blocker|verification|link (PR or commit).", schema: local(inputs.addNote) },
  { name: "create", description: "Create work orders (all or none). One observation affecting several systems: one item per system.", schema: local(inputs.create) },
  { name: "verify", description: "Run the verification command of a work order you hold (the one it had when you claimed it) on this machine and record the result; the result shows the command. block_on_fail marks it blocked when it fails.", schema: local(inputs.verify) },
  { name: "context_put", description: "Before you stop: save what you learned, changed and left unfinished, for the next agent. key defaults to handover.", schema: local(inputs.contextPut, ["git"]) },
  { name: "history", description: "Event log of a work order (id) or project: every claim, expiry, field change with diffs.", schema: local(inputs.history) },
];

/** JSON Schema for tools/list, as compact as the schemas allow. */
export function jsonSchema(s: z.ZodObject): Record<string, unknown> {
  const j = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}
