/**
 * The remote ledger: the same API as the local one, spoken over HTTP to
 * `workledger serve`. Inputs go out as they came in (the server validates
 * them with the shared schemas); errors come back with their codes, so the
 * CLI prints the same output and exits with the same codes as locally.
 */
import type { LedgerApi } from "../../core/api.js";
import { ERROR_CODES, LedgerError, type ErrorBody, type ErrorCode } from "../../core/errors.js";
import type { Health } from "../../core/ledger.js";
import { CLAIM_ONE_OF, type Inputs } from "../../core/schemas.js";
import type { TokenRecord } from "../../core/types.js";
import { noProject } from "../../core/validate.js";
import type { StoreInfo } from "../port.js";
import { send, type Answer } from "./http.js";

type Query = Record<string, string | number | boolean | undefined>;

export class RemoteLedger implements LedgerApi {
  readonly info: StoreInfo;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {
    this.url = url.replace(/\/+$/, "");
    this.info = { kind: "remote", location: this.url, schema_version: 0 };
  }

  private async call<T>(method: string, path: string, body?: Record<string, unknown>, query: Query = {}): Promise<T> {
    const qs = Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&");
    let res: Answer;
    try {
      const payload = body ? JSON.stringify(stripAgent(body)) : undefined;
      res = await send(new URL(`${this.url}${path}${qs ? `?${qs}` : ""}`), method, { authorization: `Bearer ${this.token}`, ...(payload ? { "content-type": "application/json" } : {}) }, payload, 60_000);
    } catch (e) {
      throw new LedgerError("UNAVAILABLE", `cannot reach the workledger server at ${this.url}: ${(e as Error).message}`, {
        hint: "check WORKLEDGER_URL and that `workledger serve` is running; retry shortly",
        details: { url: this.url },
      });
    }
    let json: unknown;
    try {
      json = res.text ? JSON.parse(res.text) : null;
    } catch {
      throw new LedgerError("UNAVAILABLE", `the server at ${this.url} answered ${res.status} with something that is not JSON`, { hint: "is WORKLEDGER_URL pointing at workledger serve?", details: { status: res.status } });
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

  close(): Promise<void> {
    return Promise.resolve();
  }

  createProject(i: Inputs["createProject"]) {
    return this.call<Awaited<ReturnType<LedgerApi["createProject"]>>>("POST", "/v1/projects", { project: i.project });
  }
  projects() {
    return this.call<Awaited<ReturnType<LedgerApi["projects"]>>>("GET", "/v1/projects");
  }
  create({ project, ...body }: Inputs["create"]) {
    return this.call<Awaited<ReturnType<LedgerApi["create"]>>>("POST", `${p(project)}/wos`, body);
  }
  get({ project, id }: Inputs["get"]) {
    return this.call<Awaited<ReturnType<LedgerApi["get"]>>>("GET", wo(project, id));
  }
  list({ project, ...query }: Inputs["list"]) {
    return this.call<Awaited<ReturnType<LedgerApi["list"]>>>("GET", project === undefined ? "/v1/wos" : `${p(project)}/wos`, undefined, query);
  }
  findUnclaimed({ project, ...query }: Inputs["findUnclaimed"]) {
    return this.call<Awaited<ReturnType<LedgerApi["findUnclaimed"]>>>("GET", `${p(project)}/unclaimed`, undefined, query);
  }
  claim({ project, id, next, ...body }: Inputs["claim"]) {
    if (id === undefined && next !== true) throw new LedgerError("VALIDATION", `id: ${CLAIM_ONE_OF}`, { hint: "fix the named field and retry; nothing was written", details: { issues: [{ field: "id", message: CLAIM_ONE_OF }] } });
    // Both given is a usage error the server must see, so send the id in the body then.
    const target = next === true && id === undefined ? "next" : (id ?? "");
    return this.call<Awaited<ReturnType<LedgerApi["claim"]>>>("POST", `${wo(project, target)}/claim`, { ...body, ...(next === true && id !== undefined ? { next } : {}) });
  }
  renew({ project, id, ...body }: Inputs["renew"]) {
    return this.call<Awaited<ReturnType<LedgerApi["renew"]>>>("POST", `${wo(project, id)}/renew`, body);
  }
  release({ project, id, ...body }: Inputs["release"]) {
    return this.call<Awaited<ReturnType<LedgerApi["release"]>>>("POST", `${wo(project, id)}/release`, body);
  }
  update({ project, id, ...body }: Inputs["update"]) {
    return this.call<Awaited<ReturnType<LedgerApi["update"]>>>("PATCH", wo(project, id), body);
  }
  addNote({ project, id, ...body }: Inputs["addNote"]) {
    return this.call<Awaited<ReturnType<LedgerApi["addNote"]>>>("POST", `${wo(project, id)}/notes`, body);
  }
  verifyCommand({ project, id, lease_token }: Inputs["verifyCommand"]) {
    return this.call<Awaited<ReturnType<LedgerApi["verifyCommand"]>>>("GET", `${wo(project, id)}/verification`, undefined, { lease_token });
  }
  setPolicy({ project, ...body }: Inputs["setPolicy"]) {
    return this.call<Awaited<ReturnType<LedgerApi["setPolicy"]>>>("PATCH", p(project), body);
  }
  recordVerification({ project, id, ...body }: Inputs["verification"]) {
    return this.call<Awaited<ReturnType<LedgerApi["recordVerification"]>>>("POST", `${wo(project, id)}/verification`, body);
  }
  contextPut({ project, ...body }: Inputs["contextPut"]) {
    return this.call<Awaited<ReturnType<LedgerApi["contextPut"]>>>("POST", `${p(project)}/context`, body);
  }
  contextPull({ project, git, ...query }: Inputs["contextPull"]) {
    return this.call<Awaited<ReturnType<LedgerApi["contextPull"]>>>("GET", `${p(project)}/context`, undefined, { ...query, head: git?.head });
  }
  contextHistory({ project, git, ...query }: Inputs["contextPull"]) {
    return this.call<Awaited<ReturnType<LedgerApi["contextHistory"]>>>("GET", `${p(project)}/context`, undefined, { ...query, head: git?.head, history: true });
  }
  history({ project, id, ...query }: Inputs["history"]) {
    return this.call<Awaited<ReturnType<LedgerApi["history"]>>>("GET", id === undefined ? `${p(project)}/history` : `${wo(project, id)}/history`, undefined, query);
  }
  events({ project, ...query }: Inputs["events"]) {
    if (project === undefined) throw new LedgerError("VALIDATION", "project: required for events in remote mode", { hint: "pass --project, or stream GET /v1/events", details: { issues: [{ field: "project", message: "required" }] } });
    return this.history({ project, ...query });
  }
}

const p = (project: unknown) => {
  if (project === undefined) throw noProject();
  return `/v1/projects/${encodeURIComponent(String(project))}`;
};
const wo = (project: unknown, id: unknown) => `${p(project)}/wos/${encodeURIComponent(String(id))}`;

/** The server takes the agent and its role from the token. */
function stripAgent(body: Record<string, unknown>): Record<string, unknown> {
  const { agent: _a, role: _r, ...rest } = body;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}
