/**
 * The remote ledger: the same API as the local one, spoken over HTTP to
 * `workledger serve`. Inputs go out as they came in (the server validates
 * them with the shared schemas); errors come back with their codes, so the
 * CLI prints the same output and exits with the same codes as locally.
 */
import type { LedgerApi } from "../core/api.js";
import { ERROR_CODES, LedgerError, type ErrorBody, type ErrorCode } from "../core/errors.js";
import type { Health } from "../core/ledger.js";
import type { z } from "zod";
import { OPERATIONS, pathParams, type Operation } from "../core/operations.js";
import { inputs, type Inputs } from "../core/schemas.js";
import type { FollowOptions } from "../core/follow.js";
import type { GitState, LedgerEvent, TokenRecord } from "../core/types.js";
import { streamRemoteEvents } from "./follow.js";
import { noProject, parse } from "../core/validate.js";
import type { StoreInfo } from "../core/port.js";
import { send, type Answer } from "./http.js";
import { PATIENCE_MS, takesKey, withKey } from "../core/retry.js";

type Query = Record<string, string | number | boolean | undefined>;

/** Waits before each repeat of a request that is safe to repeat, when the server cannot be reached. */
const RETRY_DELAYS_MS = [100, 300, 900];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything but what the class writes itself is an operation of the table, installed below. */
type TableMethods = Omit<LedgerApi, "info" | "knowsCaller" | "whoami" | "follow" | "health" | "lastEventSeq" | "events" | "close">;

// Declaration merging: the class's type gains the methods installed from the operation table below
// (test/core/operations.test.ts checks that each one is there).
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface RemoteLedger extends TableMethods {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class RemoteLedger implements LedgerApi {
  readonly info: StoreInfo;
  /** The server knows the caller by its token. */
  readonly knowsCaller: boolean = true;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {
    this.url = url.replace(/\/+$/, "");
    this.info = { kind: "remote", location: this.url, schema_version: 0 };
  }

  /**
   * One request. One that is safe to repeat (a read, or a write carrying an
   * idempotency key) is sent again when the connection fails or the server
   * answers 503: a reply lost after the server committed is then answered
   * from the key, so the write happens once.
   */
  private async call<T>(method: string, path: string, body?: Record<string, unknown>, query: Query = {}, retry = method === "GET"): Promise<T> {
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join("&");
    const payload = body ? JSON.stringify(body) : undefined;
    // Hints come as templates: the door that shows the error renders them in its own words.
    const headers = { authorization: `Bearer ${this.token}`, "x-workledger-hints": "template", ...(payload ? { "content-type": "application/json" } : {}) };
    let res: Answer;
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      const backoff = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
      try {
        res = await send(new URL(`${this.url}${path}${qs ? `?${qs}` : ""}`), method, headers, payload, 60_000);
      } catch (e) {
        if (retry && attempt < RETRY_DELAYS_MS.length) {
          await sleep(backoff);
          continue;
        }
        throw new LedgerError("UNAVAILABLE", `cannot reach the workledger server at ${this.url}: ${(e as Error).message}`, {
          hint: "check WORKLEDGER_URL and that `workledger serve` is running; retry shortly",
          details: { url: this.url },
        });
      }
      // A server that answers 503 is up but cannot reach a writable database, e.g. while PostgreSQL fails over.
      if (res.status !== 503 || !retry) break;
      const wait = Math.max(backoff, Math.min(5, Number(res.headers?.["retry-after"]) || 0) * 1000);
      if (Date.now() - started + wait > PATIENCE_MS) break;
      await sleep(wait);
    }
    let json: unknown;
    try {
      json = res.text ? JSON.parse(res.text) : null;
    } catch {
      throw new LedgerError("UNAVAILABLE", `the server at ${this.url} answered ${res.status} with something that is not JSON`, {
        hint: "is WORKLEDGER_URL pointing at workledger serve?",
        details: { status: res.status },
      });
    }
    const ok = res.status >= 200 && res.status < 300;
    if (ok) return json as T;
    const err = (json as { error?: ErrorBody } | null)?.error;
    const code: ErrorCode = err && err.code in ERROR_CODES ? err.code : res.status >= 500 ? "UNAVAILABLE" : "INTERNAL";
    throw new LedgerError(code, err?.message ?? `HTTP ${res.status}`, { ...(err?.hint ? { hint: err.hint } : {}), ...(err?.details ? { details: err.details } : {}) });
  }

  async health(): Promise<Health> {
    const h = await this.call<{ store: StoreInfo; now: string }>("GET", "/healthz");
    return { store: h.store, integrity: [], now: h.now, last_event_at: null };
  }

  async lastEventSeq(project?: string): Promise<number> {
    return (await this.call<{ seq: number }>("GET", "/v1/events/last", undefined, { project })).seq;
  }

  /** The identity and role of this client's token. */
  whoami() {
    return this.call<Omit<TokenRecord, "hash">>("GET", "/v1/whoami");
  }

  /** Follows the server's event stream, reconnecting where it left off. */
  follow(opts: FollowOptions, onEvent: (e: LedgerEvent) => void): Promise<void> {
    return streamRemoteEvents(this.url, this.token, opts, onEvent);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * One operation over HTTP (core/operations.ts): the first of its paths whose
   * parameters the input has, the rest of the input as the query (GET) or the
   * body. An input that fits none of its paths is checked here with the
   * operation's schema, so it fails as it would locally.
   */
  request(op: Operation, input: Record<string, unknown> = {}): Promise<unknown> {
    const http = op.http;
    if (!http || op.local) throw new Error(`operation ${op.name} has no HTTP binding`);
    // An actor's agent and role are the token's; `agent` of a read is a filter (list --agent).
    const fields = op.actor ? stripAgent(input) : Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    const value = (k: string) => (k === "id" && http.idMayBeNext && fields.id === undefined && fields.next === true ? "next" : fields[k]);
    const path = http.paths.find((p) => pathParams(p).every((k) => value(k) !== undefined));
    if (path === undefined) {
      parse(inputs[op.input] as z.ZodType, { ...fields, ...(op.actor ? { agent: "remote" } : {}) });
      throw noProject();
    }
    const url = path.replace(/:(\w+)/g, (_m, k: string) => encodeURIComponent(String(value(k))));
    // `next` went into the path as the id; with an id as well, it stays in the body for the server to refuse.
    if (value("id") === "next" && fields.id === undefined) delete fields.next;
    for (const k of pathParams(path)) delete fields[k];
    if (http.method !== "GET") {
      // A write that can carry a key gets one, so it can be retried safely (see call).
      return this.call(http.method, url, withKey(op, fields), {}, takesKey(op));
    }
    const { git, ...query } = { ...fields, ...http.when } as Record<string, unknown>;
    // The caller's work tree travels as its HEAD and branch (what the server compares); outside any, as head=none.
    const g = git as GitState | null | undefined;
    return this.call("GET", url, undefined, { ...(query as Query), head: g === null ? "none" : g?.head, git_branch: g?.branch ?? undefined });
  }

  events({ project, ...query }: Inputs["events"]) {
    if (project === undefined)
      throw new LedgerError("VALIDATION", "project: required for events in remote mode", {
        hint: "pass --project, or stream GET /v1/events",
        details: { issues: [{ field: "project", message: "required" }] },
      });
    return this.history({ project, ...query });
  }
}

for (const op of OPERATIONS) {
  if (!op.http || op.local) continue;
  Object.defineProperty(RemoteLedger.prototype, op.name, {
    value(this: RemoteLedger, input?: Record<string, unknown>) {
      return this.request(op, input);
    },
  });
}

/** The server takes the agent and its role from the token; undefined fields are left out. */
function stripAgent(body: Record<string, unknown>): Record<string, unknown> {
  const { agent: _a, role: _r, ...rest } = body;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}
