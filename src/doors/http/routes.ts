/**
 * The HTTP API as a table: each route names its access level, the shared
 * input schema it is validated against (also used for the OpenAPI document),
 * and the ledger call it translates to. Inputs are the body (or the query
 * for GET) plus path parameters; the agent always comes from the token.
 */
import type { z } from "zod";
import type { Access } from "../../core/auth.js";
import type { LedgerApi } from "../../core/api.js";
import { inputs, type Inputs } from "../../core/schemas.js";

export type Input = Record<string, unknown>;

export interface Route {
  name: string;
  method: "GET" | "POST" | "PATCH";
  path: string;
  access: Access;
  summary: string;
  schema: z.ZodType;
  /** The request acts as the token's agent (the schema has an `agent` field). */
  actor?: boolean;
  status?: number;
  run(l: LedgerApi, input: Input): Promise<unknown>;
}

const WO = "/v1/projects/:project/wos/:id";

// Each cast below hands the assembled request to the core, whose schema is the real check.
export const routes: Route[] = [
  { name: "listProjects", method: "GET", path: "/v1/projects", access: "read", summary: "Projects with counts per status", schema: inputs.events.pick({}), run: (l) => l.projects() },
  { name: "createProject", method: "POST", path: "/v1/projects", access: "write", actor: true, status: 201, summary: "Create a project", schema: inputs.createProject, run: (l, i) => l.createProject(i as Inputs["createProject"]) },
  { name: "setPolicy", method: "PATCH", path: "/v1/projects/:project", access: "admin", actor: true, summary: "Set a project's policy (who may write verification commands)", schema: inputs.setPolicy, run: (l, i) => l.setPolicy(i as Inputs["setPolicy"]) },
  { name: "listAll", method: "GET", path: "/v1/wos", access: "read", summary: "Work orders of every project", schema: inputs.list, run: (l, i) => l.list(i as Inputs["list"]) },
  { name: "list", method: "GET", path: "/v1/projects/:project/wos", access: "read", summary: "Work orders of a project (default: all but done and cancelled)", schema: inputs.list, run: (l, i) => l.list(i as Inputs["list"]) },
  { name: "create", method: "POST", path: "/v1/projects/:project/wos", access: "write", actor: true, status: 201, summary: "Create work orders atomically", schema: inputs.create, run: (l, i) => l.create(i as Inputs["create"]) },
  { name: "findUnclaimed", method: "GET", path: "/v1/projects/:project/unclaimed", access: "read", summary: "Open work nobody holds whose dependencies are done, most urgent first", schema: inputs.findUnclaimed, run: (l, i) => l.findUnclaimed(i as Inputs["findUnclaimed"]) },
  { name: "get", method: "GET", path: WO, access: "read", summary: "One work order with its notes", schema: inputs.get, run: (l, i) => l.get(i as Inputs["get"]) },
  { name: "update", method: "PATCH", path: WO, access: "write", actor: true, summary: "Change fields and/or status (compare-and-set with if_revision)", schema: inputs.update, run: (l, i) => l.update(i as Inputs["update"]) },
  { name: "claim", method: "POST", path: `${WO}/claim`, access: "write", actor: true, summary: "Take a work order under an exclusive lease (id `next`: the most urgent free one)", schema: inputs.claim, run: (l, i) => l.claim(i as Inputs["claim"]) },
  { name: "renew", method: "POST", path: `${WO}/renew`, access: "write", actor: true, summary: "Extend your live lease", schema: inputs.renew, run: (l, i) => l.renew(i as Inputs["renew"]) },
  { name: "release", method: "POST", path: `${WO}/release`, access: "write", actor: true, summary: "End your lease, optionally setting a status", schema: inputs.release, run: (l, i) => l.release(i as Inputs["release"]) },
  { name: "addNote", method: "POST", path: `${WO}/notes`, access: "write", actor: true, status: 201, summary: "Append a note", schema: inputs.addNote, run: (l, i) => l.addNote(i as Inputs["addNote"]) },
  { name: "verifyCommand", method: "GET", path: `${WO}/verification`, access: "write", actor: true, summary: "The verification command you may run now (pinned at your claim)", schema: inputs.verifyCommand, run: (l, i) => l.verifyCommand(i as Inputs["verifyCommand"]) },
  { name: "recordVerification", method: "POST", path: `${WO}/verification`, access: "write", actor: true, status: 201, summary: "Record the result of running the verification command", schema: inputs.verification, run: (l, i) => l.recordVerification(i as Inputs["verification"]) },
  { name: "woHistory", method: "GET", path: `${WO}/history`, access: "read", summary: "Event log of a work order", schema: inputs.history, run: (l, i) => l.history(i as Inputs["history"]) },
  { name: "history", method: "GET", path: "/v1/projects/:project/history", access: "read", summary: "Event log of a project", schema: inputs.history, run: (l, i) => l.history(i as Inputs["history"]) },
  { name: "contextPut", method: "POST", path: "/v1/projects/:project/context", access: "write", actor: true, status: 201, summary: "Save context for the next agent", schema: inputs.contextPut, run: (l, i) => l.contextPut(i as Inputs["contextPut"]) },
  {
    name: "contextPull",
    method: "GET",
    path: "/v1/projects/:project/context",
    access: "read",
    summary: "Newest context per key with freshness verdicts (history=true: every entry)",
    schema: inputs.contextPull,
    run: (l, i) => (i.history === true ? l.contextHistory(i as Inputs["contextPull"]) : l.contextPull(i as Inputs["contextPull"])),
  },
];

/** Query strings are text; these keys are numbers or booleans in the schemas. */
export const NUMERIC_QUERY = new Set(["limit", "after", "lease_token"]);
export const BOOLEAN_QUERY = new Set(["history"]);
