/**
 * OpenAPI 3.1, generated from the route table and the same schemas that
 * validate requests, with each operation's error responses: the codes it may
 * answer with (from what the operation table says of it) grouped by status,
 * each with the error body's schema, so a generated client knows them.
 */
import { ERROR_CODES, type ErrorCode } from "../../core/errors.js";
import { pathParams, type Operation } from "../../core/operations.js";
import { jsonSchemaOf, routes } from "./routes.js";
import { HTTP_STATUS } from "./status.js";

/** Refusals of a write to a work order (409), and of one under a lease that has ended (410). */
const WO_WRITE: ErrorCode[] = [
  "LEASE_HELD",
  "NOT_HOLDER",
  "REVISION_MISMATCH",
  "ILLEGAL_TRANSITION",
  "FILE_CONFLICT",
  "DEPENDENCY_PENDING",
  "VERIFICATION_CHANGED",
  "UNTRUSTED_VERIFICATION",
  "SANDBOX_REQUIRED",
  "VERIFICATION_REQUIRED",
  "MAX_HOLD_REACHED",
  "BUDGET_EXHAUSTED",
  "CAPABILITY_MISSING",
  "LEASE_LOST",
];

/** The codes an operation may answer with at `path`: every request's, then by what it reads, writes and takes. */
export function errorCodes(op: Operation, path: string, body: { properties?: Record<string, unknown> }): ErrorCode[] {
  const codes: ErrorCode[] = ["VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"];
  if (op.http?.method !== "GET") codes.push("PAYLOAD_TOO_LARGE");
  if (path.includes(":project")) codes.push("NOT_FOUND");
  if (body.properties && "idempotency_key" in body.properties) codes.push("IDEMPOTENCY_MISMATCH");
  if (op.access !== "read" && path.includes(":id")) codes.push(...WO_WRITE);
  if (op.http?.idMayBeNext) codes.push("NOTHING_TO_CLAIM");
  return [...new Set(codes)];
}

/** Error responses by status, each listing its codes and typing the body's `code` with them. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      {
        description: list.map((c) => `${c}: ${ERROR_CODES[c]}`).join("; "),
        content: { "application/json": { schema: { allOf: [{ $ref: "#/components/schemas/Error" }, errorBody(list)] } } },
      },
    ]),
  );
}

/** The error body (DESIGN.md §6): `{"error": {code, message, hint?, details?}}`. */
function errorBody(codes: readonly ErrorCode[]): Record<string, unknown> {
  return {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: {
          code: { type: "string", enum: codes },
          message: { type: "string" },
          hint: { type: "string", description: "what to do next" },
          details: { type: "object", additionalProperties: true },
        },
      },
    },
  };
}

const AUTH_ERRORS = errorResponses(["UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"]);

const FROM_PATH = new Set(["project", "id", "agent", "role", "next"]);

function schemaOf(op: Operation): Record<string, unknown> {
  const json = { ...jsonSchemaOf(op) } as Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };
  if (json.properties) json.properties = { ...json.properties };
  if (json.properties) {
    for (const k of Object.keys(json.properties)) if (FROM_PATH.has(k)) delete json.properties[k];
    if (json.required) json.required = json.required.filter((k) => !FROM_PATH.has(k));
  }
  return json;
}

let cached: Record<string, unknown> | undefined;

export function openapi(version: string): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes()) {
    const path = r.path.replace(/:(\w+)/g, "{$1}");
    const params = pathParams(r.path).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
    const body = schemaOf(r.op);
    const nth = r.op.http?.paths.indexOf(r.path) ?? 0;
    const query =
      r.method === "GET" ? Object.entries((body.properties ?? {}) as Record<string, unknown>).map(([name, schema]) => ({ name, in: "query", required: false, schema })) : [];
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: nth ? `${r.op.name}${nth + 1}` : r.op.name,
      summary: r.op.summary,
      security: [{ bearer: [] }],
      parameters: [...params, ...query],
      ...(r.method === "GET" ? {} : { requestBody: { required: false, content: { "application/json": { schema: body } } } }),
      responses: {
        [String(r.op.http?.status ?? 200)]: { description: "OK", content: { "application/json": { schema: {} } } },
        ...errorResponses(errorCodes(r.op, r.path, body)),
      },
    };
  }
  paths["/v1/events"] = {
    get: {
      operationId: "events",
      summary: "Server-sent events: the ledger's event log as it grows",
      security: [{ bearer: [] }],
      responses: { 200: { description: "text/event-stream" }, ...errorResponses(["VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"]) },
    },
  };
  paths["/v1/events/last"] = {
    get: {
      operationId: "lastEventSeq",
      summary: "Sequence number of the newest event (start a stream from now)",
      security: [{ bearer: [] }],
      responses: { 200: { description: "{seq}" }, ...errorResponses(["VALIDATION", "UNAUTHORIZED", "FORBIDDEN", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"]) },
    },
  };
  paths["/v1/whoami"] = {
    get: {
      operationId: "whoami",
      summary: "The agent, role and project of the presented token",
      security: [{ bearer: [] }],
      responses: { 200: { description: "token without its secret" }, ...AUTH_ERRORS },
    },
  };
  // Public: no token (and so nothing a token is refused for); /metrics takes one unless serve was told to publish it.
  paths["/healthz"] = {
    get: { operationId: "health", summary: "Liveness and store information", security: [], responses: { 200: { description: "OK" }, ...errorResponses(["UNAVAILABLE"]) } },
  };
  paths["/metrics"] = {
    get: { operationId: "metrics", summary: "Prometheus text format", security: [{ bearer: [] }, {}], responses: { 200: { description: "OK" }, ...AUTH_ERRORS } },
  };
  paths["/openapi.json"] = { get: { operationId: "openapi", summary: "This document", security: [], responses: { 200: { description: "OpenAPI 3.1" } } } };
  cached = {
    openapi: "3.1.0",
    info: {
      title: "workledger",
      version,
      description: `A shared ledger of work orders with exclusive TTL leases and context handoff. Error statuses: ${Object.entries(HTTP_STATUS)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/", description: "the workledger serve that answers this document" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas: { Error: errorBody(Object.keys(ERROR_CODES) as ErrorCode[]) } },
    paths,
  };
  return cached;
}
