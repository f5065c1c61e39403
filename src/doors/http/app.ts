/**
 * The HTTP door: authenticate the bearer token, authorize by role and
 * project, assemble the input, call the ledger, map errors to statuses.
 * No business rule lives here.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { authorize, looksLikeToken } from "../../core/auth.js";
import { ERROR_CODES, LedgerError, isLedgerError, type ErrorBody } from "../../core/errors.js";
import type { Ledger } from "../../core/ledger.js";
import { callLedger, resolve } from "../../core/operations.js";
import { takesKey } from "../../core/retry.js";
import { capabilitiesOf } from "../../core/stages.js";
import { inputs } from "../../core/schemas.js";
import { parse, utf8 } from "../../core/validate.js";
import type { TokenRecord } from "../../core/types.js";
import { clientAddress, trustProxies } from "./client-address.js";
import { Metrics } from "./metrics.js";
import { openapi } from "./openapi.js";
import { RateLimiter } from "./ratelimit.js";
import { fromQuery, routes, type Input, type Route } from "./routes.js";
import { EventHub } from "./event-hub.js";
import { eventStream } from "./sse.js";
import { mountDashboard } from "../web/static.js";
import { HTTP_STATUS } from "./status.js";

export interface AppOptions {
  ledger: Ledger;
  metrics?: Metrics;
  /** Largest accepted request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Sustained requests per second per token, and the burst above it. */
  rateLimit?: { perSecond: number; burst: number };
  /** Rows a token may read per second, and in a burst (default 5,000 and 10,000): a request's cost, next to the request count. */
  readLimit?: { perSecond: number; burst: number };
  /** Requests with a bad token allowed per client address (default 10/s, burst 50). */
  failedAuthLimit?: { perSecond: number; burst: number };
  /** Serve /metrics without a token (default: a reader token or better is needed). */
  publicMetrics?: boolean;
  /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client. */
  trustProxy?: readonly string[];
  /** How often the event streams' shared reader polls the log (ms). */
  pollMs?: number;
  /** Event streams one token may hold open at once (default 16). */
  maxStreamsPerToken?: number;
  /** The dashboard's built assets (default: beside the compiled server, see web/static.ts). */
  dashboardAssets?: URL;
  /** Ends open event streams (graceful shutdown). */
  stop?: AbortSignal;
  version: string;
}

export function createApp(opts: AppOptions): Hono {
  const { ledger } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const limiter = new RateLimiter(opts.rateLimit?.perSecond ?? 100, opts.rateLimit?.burst ?? 200);
  const reads = new RateLimiter(opts.readLimit?.perSecond ?? 5_000, opts.readLimit?.burst ?? 10_000);
  const failures = new RateLimiter(opts.failedAuthLimit?.perSecond ?? 10, opts.failedAuthLimit?.burst ?? 50);
  const trusted = trustProxies(opts.trustProxy ?? []);
  // On PostgreSQL a revoked token is refused within a second on every server (see token-cache.ts).
  const tokens = ledger.tokenLookup;
  const hub = new EventHub(ledger, opts.pollMs ?? 250, opts.stop ?? new AbortController().signal);
  const streams = new Map<string, number>();
  const maxStreams = opts.maxStreamsPerToken ?? 16;
  const app = new Hono();

  const fail = (c: Context, e: unknown) => {
    if (!isLedgerError(e) && clientGone(c, e)) {
      // The client's doing, not ours: one line, no stack, and 499 (client closed request) in /metrics.
      process.stderr.write(`workledger serve: client closed ${c.req.method} ${c.req.path} before the request was read\n`);
      return c.body(null, 499 as 400);
    }
    const err = isLedgerError(e) ? e : new LedgerError("INTERNAL", "internal error", { hint: "see the server log" });
    if (!isLedgerError(e)) process.stderr.write(`workledger serve: ${(e as Error)?.stack ?? String(e)}\n`);
    const status = HTTP_STATUS[err.code];
    // Both clear by themselves: a spent allowance refills, a database failing over gets a new primary.
    if (err.code === "RATE_LIMITED" || err.code === "UNAVAILABLE") c.header("Retry-After", String(err.details?.retry_after ?? 1));
    // Hints in the API's words, or as the neutral template for a client that renders them itself (the remote client).
    const body = err.toJSON(c.req.header("x-workledger-hints") === "template" ? "template" : undefined);
    const token = authenticated.get(c.req.raw);
    return c.json({ error: token === undefined ? anonymous(body) : token.project !== null ? withinScope(body) : body }, status as 400);
  };
  /** Requests that presented a valid token: only they may learn more than an error's code (no database name, user or host). */
  const authenticated = new WeakMap<Request, TokenRecord>();

  /**
   * 401 for a missing, unknown or revoked token; then the per-token rate limit.
   * Failed lookups spend an allowance per client address; once it is spent
   * they get 429, and text that cannot be a token is refused without a
   * lookup. A valid token always gets through: bogus tokens sent from the
   * same address (or through the same load balancer) cannot lock it out.
   */
  const authenticate = async (c: Context): Promise<TokenRecord> => {
    const secret = bearer(c);
    const client = `failed-auth:${clientAddress(peerAddress(c), c.req.header("x-forwarded-for"), trusted)}`;
    const blocked = failures.waiting(client);
    const found = secret !== undefined && (blocked === 0 || looksLikeToken(secret)) ? await tokens.find(secret) : null;
    let token: TokenRecord;
    try {
      token = authorize(found, "read", null);
    } catch (e) {
      const wait = failures.take(client);
      if (wait > 0)
        throw new LedgerError("RATE_LIMITED", "too many requests with a bad token from this address", {
          hint: `retry in ${wait}s with a valid token`,
          details: { retry_after: wait },
        });
      throw e;
    }
    authenticated.set(c.req.raw, token);
    const wait = limiter.take(token.id);
    if (wait > 0) throw new LedgerError("RATE_LIMITED", `token ${token.id} is over its rate limit`, { hint: `retry in ${wait}s`, details: { retry_after: wait } });
    // One reader's large pages must not slow everyone else (issue 24): rows read are paid for like requests.
    const owed = reads.waiting(token.id);
    if (owed > 0)
      throw new LedgerError("RATE_LIMITED", `token ${token.id} has read more rows than its allowance`, {
        hint: `retry in ${owed}s, with smaller pages ({{limit}})`,
        details: { retry_after: owed },
      });
    return token;
  };

  app.use("*", async (c, next) => {
    const started = performance.now();
    // No response is ever to be read as anything but its declared type.
    c.header("X-Content-Type-Options", "nosniff");
    await next();
    // A connection is kept open only for a client that showed a valid token: twenty sockets that ask for
    // /healthz once and then idle must not hold every connection slot for the keep-alive time (issue 24).
    if (!authenticated.has(c.req.raw)) c.res.headers.set("Connection", "close");
    metrics.observeRequest(c.req.routePath, c.res.status, (performance.now() - started) / 1000);
  });
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const tooLarge = (c: Context) =>
    fail(c, new LedgerError("PAYLOAD_TOO_LARGE", `request body is larger than ${maxBody} bytes`, { hint: "split a large batch into several requests" }));
  const streamedLimit = bodyLimit({ maxSize: maxBody, onError: tooLarge });
  app.use("/v1/*", (c, next) => {
    // hono's bodyLimit reads c.req.raw.body, which makes @hono/node-server build a
    // full web Request and stream for every request. A declared length is enough
    // (Node's parser never reads past it), so only chunked bodies go through it.
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const declared = c.req.header("content-length");
    if (declared !== undefined && c.req.header("transfer-encoding") === undefined) return Number(declared) > maxBody ? Promise.resolve(tooLarge(c)) : next();
    return streamedLimit(c, next);
  });

  app.get("/healthz", async (c) => {
    const h = await ledger.health({ integrity: false });
    // Unauthenticated: say what kind of store answers, never where it is.
    return c.json({ ok: true, version: opts.version, store: { kind: h.store.kind, schema_version: h.store.schema_version }, now: h.now });
  });
  app.get("/metrics", async (c) => {
    // Public metrics need no token, but one presented still decides what per-project series it may see.
    const token = opts.publicMetrics && bearer(c) === undefined ? null : await authenticate(c);
    const view = token === null ? null : token.role === "admin" ? { all: true } : token.project !== null ? { project: token.project } : null;
    return c.text(metrics.render(view), 200, { "content-type": "text/plain; version=0.0.4" });
  });
  app.get("/openapi.json", (c) => c.json(openapi(opts.version)));
  app.get("/v1/whoami", async (c) => {
    const { hash: _h, ...token } = await authenticate(c);
    return c.json(token);
  });
  app.get("/v1/events/last", async (c) => {
    const token = authorize(await authenticate(c), "read", c.req.query("project") ?? null);
    const { project } = parse(inputs.events, { project: token.project ?? c.req.query("project") });
    return c.json({ seq: await ledger.lastEventSeq(project) });
  });
  app.get("/v1/events", async (c) => {
    const token = authorize(await authenticate(c), "read", c.req.query("project") ?? null);
    const rawAfter = c.req.header("last-event-id") ?? c.req.query("after");
    // Validate before the 200 goes out: afterwards an error can only end the stream.
    const { project, after } = parse(inputs.events, {
      project: token.project ?? c.req.query("project"),
      after: rawAfter === undefined ? undefined : /^\d+$/.test(rawAfter) ? Number(rawAfter) : rawAfter,
    });
    const open = streams.get(token.id) ?? 0;
    if (open >= maxStreams) {
      throw new LedgerError("RATE_LIMITED", `token ${token.id} already has ${open} open event streams (at most ${maxStreams})`, {
        hint: "close a stream first; one stream per client is enough (filter by project in the client)",
        details: { retry_after: 5, open_streams: open },
      });
    }
    streams.set(token.id, open + 1);
    const secret = bearer(c) ?? "";
    return eventStream(c, hub, {
      project,
      after: after ?? 0,
      // Checked once per poll for all streams of the token, so a revoked token's streams end at once.
      allowed: async () => {
        authorize(await tokens.find(secret), "read", project ?? null);
        return true;
      },
      authKey: secret,
      onClose: () => {
        const left = (streams.get(token.id) ?? 1) - 1;
        if (left > 0) streams.set(token.id, left);
        else streams.delete(token.id);
      },
    });
  });

  for (const route of routes()) {
    app.on(route.method, route.path, async (c) => {
      const token = await authenticate(c);
      const input = await assemble(c, route);
      const op = resolve(route.op, input);
      authorize(token, op.access, typeof input.project === "string" ? input.project : null);
      if (op.actor) {
        input.agent = token.agent;
        input.role = token.role;
      }
      // What the caller declares, within what an admin allowed its token (a malformed list is left for the schema to name).
      if (op.capabilities && (input.can === undefined || Array.isArray(input.can))) {
        const can = capabilitiesOf(token.can, input.can as string[] | undefined, input.any === true);
        if (can !== undefined) input.can = can;
      }
      // A token limited to one project sees that project where a call may name none (list, projects).
      if (token.project !== null && input.project === undefined) input.project = token.project;
      // Its project was named by an admin: a near miss of a project it cannot see is no typo of its own (nor a hint to give it).
      if (token.project !== null && NAMES_NEW_PROJECT.has(op.input)) input.new_project = true;
      const result = await callLedger(ledger, op, input);
      reads.charge(token.id, rowsIn(result));
      if (killAfterCommit === op.name) process.kill(process.pid, "SIGKILL");
      return c.json(result as object, (op.http?.status ?? 200) as 200);
    });
  }

  mountDashboard(app, opts.dashboardAssets);

  app.notFound((c) => fail(c, new LedgerError("NOT_FOUND", `no route ${c.req.method} ${c.req.path}`, { hint: "GET /openapi.json lists the API" })));
  // Every handler's errors land here: one mapping from error codes to statuses.
  app.onError((e, c) => fail(c, e));
  return app;
}

/** Whether an error comes from the client going away mid-request (Node's "aborted", a reset socket). */
function clientGone(c: Context, e: unknown): boolean {
  const incoming = (c.env as { incoming?: { socket?: { destroyed?: boolean } } } | undefined)?.incoming;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  // Not incoming.destroyed: a request whose body was read in full is destroyed too (autoDestroy), client or not.
  return incoming?.socket?.destroyed === true || code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE";
}

/** The peer address on Node (the proxy's, behind a load balancer); undefined elsewhere (e.g. app.request in tests). */
function peerAddress(c: Context): string | undefined {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
}

function bearer(c: Context): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
}

/**
 * Fault injection for the reliability tests: `WORKLEDGER_FAILPOINT=kill-after-commit:claim`
 * makes the server SIGKILL itself after that operation committed and before it
 * answers (the reply a client loses). Read once at start; unset, nothing happens.
 */
const killAfterCommit = /^kill-after-commit:(\w+)$/.exec(process.env.WORKLEDGER_FAILPOINT ?? "")?.[1];

/** What an answer cost to read, in rows: its items, or its lists' items (at least one). */
function rowsIn(result: unknown): number {
  if (Array.isArray(result)) return Math.max(1, result.length);
  if (result === null || typeof result !== "object") return 1;
  const lists = Object.values(result).filter(Array.isArray);
  return Math.max(
    1,
    lists.reduce((n, l: unknown[]) => n + l.length, 0),
  );
}

/** Inputs that take `new_project`. */
const NAMES_NEW_PROJECT = new Set(["create", "contextPut", "createProject"]);

/** A token limited to one project learns no other project's name from a "did you mean" (issue 24). */
function withinScope(body: ErrorBody): ErrorBody {
  if (body.code !== "NOT_FOUND" || body.details?.did_you_mean === undefined) return body;
  const { did_you_mean: _d, ...details } = body.details;
  return { ...body, message: body.message.replace(/; did you mean [^?]*\?/, ""), details };
}

/**
 * What an error says to a client that showed no valid token: its code and
 * the code's fixed meaning, and how long to wait; never a message or detail
 * that may name the database, its user, hosts or ports (issue 24).
 */
function anonymous(body: ErrorBody): ErrorBody {
  const told = body.code === "UNAUTHORIZED" || body.code === "RATE_LIMITED" || body.code === "PAYLOAD_TOO_LARGE";
  if (told) return body;
  const retry = body.details?.retry_after;
  return { code: body.code, message: ERROR_CODES[body.code], ...(retry === undefined ? {} : { details: { retry_after: retry } }) };
}

/**
 * The `Idempotency-Key` header is the body's `idempotency_key`. Operations
 * without one (renewing all leases, setting a policy) are idempotent by nature
 * and ignore it.
 */
function idempotencyHeader(c: Context, route: Route, input: Input): void {
  const key = c.req.header("idempotency-key");
  if (key === undefined || !takesKey(route.op)) return;
  if (input.idempotency_key !== undefined && input.idempotency_key !== key) {
    throw new LedgerError("VALIDATION", "idempotency_key: the Idempotency-Key header and the body's idempotency_key differ", {
      hint: "send the key once, in the header or in the body",
      details: { issues: [{ field: "idempotency_key", message: "header and body differ" }] },
    });
  }
  input.idempotency_key = key;
}

/** Body (or query for GET) plus path parameters; the token decides the agent later. */
async function assemble(c: Context, route: Route): Promise<Input> {
  let input: Input = {};
  if (route.method === "GET") input = fromQuery(route.op, c.req.query());
  else {
    const text = utf8(new Uint8Array(await c.req.arrayBuffer()), "body");
    if (text.trim()) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new LedgerError("VALIDATION", `body: not valid JSON: ${(e as Error).message}`, {
          hint: "send a JSON object",
          details: { issues: [{ field: "body", message: "invalid JSON" }] },
        });
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new LedgerError("VALIDATION", "body: must be a JSON object", { details: { issues: [{ field: "body", message: "not an object" }] } });
      }
      input = { ...(body as Input) };
    }
    delete input.agent; // identity and role come from the token, never from the body
    delete input.role;
    idempotencyHeader(c, route, input);
  }
  const { project, id } = c.req.param() as { project?: string; id?: string };
  if (project !== undefined) input.project = project;
  if (id !== undefined) {
    if (route.op.http?.idMayBeNext && id === "next") input.next = true;
    else input.id = id;
  }
  return input;
}
