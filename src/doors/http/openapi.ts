/** OpenAPI 3.1, generated from the route table and the same schemas that validate requests. */
import { pathParams, type Operation } from "../../core/operations.js";
import { jsonSchemaOf, routes } from "./routes.js";
import { HTTP_STATUS } from "./status.js";

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
  const errorBody = {
    type: "object",
    required: ["error"],
    properties: {
      error: {
        type: "object",
        required: ["code", "message"],
        properties: { code: { type: "string" }, message: { type: "string" }, hint: { type: "string" }, details: { type: "object" } },
      },
    },
  };
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
        default: { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
  }
  paths["/v1/events"] = {
    get: {
      operationId: "events",
      summary: "Server-sent events: the ledger's event log as it grows",
      security: [{ bearer: [] }],
      responses: { 200: { description: "text/event-stream" } },
    },
  };
  paths["/v1/events/last"] = {
    get: {
      operationId: "lastEventSeq",
      summary: "Sequence number of the newest event (start a stream from now)",
      security: [{ bearer: [] }],
      responses: { 200: { description: "{seq}" } },
    },
  };
  paths["/v1/whoami"] = {
    get: {
      operationId: "whoami",
      summary: "The agent, role and project of the presented token",
      security: [{ bearer: [] }],
      responses: { 200: { description: "token without its secret" } },
    },
  };
  paths["/healthz"] = { get: { operationId: "health", summary: "Liveness and store information", responses: { 200: { description: "OK" } } } };
  paths["/metrics"] = { get: { operationId: "metrics", summary: "Prometheus text format", responses: { 200: { description: "OK" } } } };
  cached = {
    openapi: "3.1.0",
    info: {
      title: "workledger",
      version,
      description: `Error statuses: ${Object.entries(HTTP_STATUS)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}`,
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } }, schemas: { Error: errorBody } },
    paths,
  };
  return cached;
}
