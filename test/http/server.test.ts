/** The HTTP door over a real socket: auth, roles, project scope, limits, errors, OpenAPI, metrics, SSE. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Ledger } from "../../src/core/ledger.ts";
import { Metrics } from "../../src/doors/http/metrics.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { openLedger } from "../../src/index.ts";

describe("HTTP API", () => {
  let dir: string;
  let ledger: Ledger;
  let server: RunningServer;
  const tokens: Record<string, string> = {};

  const req = async (method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(server.url + path, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json, headers: res.headers };
  };
  const count = async () => (await ledger.list({ project: "p", status: "all" }).catch(() => [])).length;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-http-"));
    const metrics = new Metrics();
    ledger = await openLedger({ db: join(dir, "ledger.db"), onEvents: (e) => metrics.observeEvents(e) });
    for (const [name, role, project] of [
      ["alice", "agent"],
      ["bob", "agent"],
      ["rita", "reader"],
      ["admin", "admin"],
      ["scoped", "agent", "other"],
      ["gone", "agent"],
    ] as const) {
      tokens[name] = (await ledger.tokens.create({ agent: name, role, ...(project ? { project } : {}) }, "admin")).token;
    }
    server = await startServer({ ledger, metrics, host: "127.0.0.1", port: 0, version: "test", maxBodyBytes: 4096, rateLimit: { perSecond: 1000, burst: 1000 }, pollMs: 50 });
  });
  after(async () => {
    await server.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves health and OpenAPI without a token; metrics need one (issue 13)", async () => {
    const h = await req("GET", "/healthz");
    assert.equal(h.status, 200);
    assert.equal(h.json.store.kind, "sqlite");
    assert.equal(h.json.store.location, undefined, "no file path or database URL for anonymous callers");
    const doc = (await req("GET", "/openapi.json")).json;
    assert.equal(doc.openapi, "3.1.0");
    const create = doc.paths["/v1/projects/{project}/wos"].post;
    assert.deepEqual(create.requestBody.content["application/json"].schema.required, ["items"]);
    assert.equal(create.requestBody.content["application/json"].schema.properties.items.items.properties.title.maxLength, 200);
    assert.ok(doc.paths["/v1/projects/{project}/wos/{id}/claim"].post);
    assert.equal((await req("GET", "/metrics")).status, 401);
    assert.equal((await req("GET", "/metrics", { token: tokens.rita })).status, 200);
    const open = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t", publicMetrics: true });
    try {
      assert.equal((await fetch(`${open.url}/metrics`)).status, 200, "--public-metrics");
    } finally {
      await open.close();
    }
  });

  it("every response says nosniff (issue 13)", async () => {
    for (const [path, token] of [
      ["/healthz"],
      ["/openapi.json"],
      ["/metrics"],
      ["/metrics", tokens.rita],
      ["/v1/projects", tokens.rita],
      ["/v1/projects/p/wos/abc", tokens.rita],
      ["/nowhere"],
      ["/"],
    ] as const) {
      const r = await req("GET", path, token ? { token } : {});
      assert.equal(r.headers.get("x-content-type-options"), "nosniff", `${path} (${r.status})`);
    }
  });

  it("every /v1 request needs a valid bearer token: 401 otherwise", async () => {
    for (const token of [undefined, "wl_nope_nope"]) {
      const r = await req("GET", "/v1/projects", token ? { token } : {});
      assert.equal(r.status, 401);
      assert.equal(r.json.error.code, "UNAUTHORIZED");
    }
    assert.equal((await req("POST", "/v1/projects/p/wos", { body: { items: [{ title: "x" }] } })).status, 401);
    assert.equal(await count(), 0);
  });

  it("the agent comes from the token, never from the body", async () => {
    const r = await req("POST", "/v1/projects/p/wos", { token: tokens.alice, body: { items: [{ title: "one" }, { title: "two" }], agent: "mallory" } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual(
      r.json.map((w: { created_by: string }) => w.created_by),
      ["alice", "alice"],
    );
  });

  it("readers read but cannot write (403), and nothing is written", async () => {
    assert.equal((await req("GET", "/v1/projects/p/wos", { token: tokens.rita })).status, 200);
    const before = await count();
    for (const [m, path, body] of [
      ["POST", "/v1/projects/p/wos", { items: [{ title: "x" }] }],
      ["POST", "/v1/projects/p/wos/1/claim", {}],
      ["PATCH", "/v1/projects/p/wos/1", { status: "done" }],
      ["POST", "/v1/projects/p/context", { body: "x" }],
    ] as const) {
      const r = await req(m, path, { token: tokens.rita, body });
      assert.equal(r.status, 403, path);
      assert.equal(r.json.error.code, "FORBIDDEN");
    }
    assert.equal(await count(), before);
  });

  it("project-scoped tokens cannot touch other projects (403)", async () => {
    assert.equal((await req("GET", "/v1/projects/p/wos", { token: tokens.scoped })).status, 403);
    assert.equal((await req("POST", "/v1/projects/p/wos/1/claim", { token: tokens.scoped })).status, 403);
    const own = await req("POST", "/v1/projects/other/wos", { token: tokens.scoped, body: { items: [{ title: "mine" }] } });
    assert.equal(own.status, 201);
    assert.deepEqual(
      (await req("GET", "/v1/projects", { token: tokens.scoped })).json.map((p: { name: string }) => p.name),
      ["other"],
    );
    assert.ok((await req("GET", "/v1/wos", { token: tokens.scoped })).json.every((w: { project: string }) => w.project === "other"));
  });

  it("a token for agent A cannot renew or release agent B's lease", async () => {
    const claimed = await req("POST", "/v1/projects/p/wos/1/claim", { token: tokens.bob, body: { ttl: "10m" } });
    assert.equal(claimed.status, 200);
    assert.equal(claimed.json.lease.agent, "bob");
    for (const action of ["renew", "release"]) {
      const r = await req("POST", `/v1/projects/p/wos/1/${action}`, { token: tokens.alice, body: { lease_token: claimed.json.lease.token } });
      assert.equal(r.status, 409, action);
      assert.equal(r.json.error.code, "LEASE_HELD");
    }
    const lost = await req("POST", "/v1/projects/p/wos/1/claim", { token: tokens.alice });
    assert.equal(lost.status, 409);
    assert.equal(lost.json.error.details.holder, "bob");
    const stale = await req("POST", "/v1/projects/p/wos/1/renew", { token: tokens.bob, body: { lease_token: 999 } });
    assert.equal(stale.status, 410);
    assert.equal(stale.json.error.code, "LEASE_LOST");
  });

  it("revoked tokens stop working at once", async () => {
    assert.equal((await req("GET", "/v1/projects", { token: tokens.gone })).status, 200);
    const id = /^wl_([0-9a-f]+)_/.exec(tokens.gone!)![1]!;
    await ledger.tokens.revoke({ id }, "admin");
    const r = await req("GET", "/v1/projects", { token: tokens.gone });
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /revoked/);
  });

  it("a chunked body (no content-length) is limited as it streams in", async () => {
    const chunked = async (text: string) => {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < text.length; i += 1000) c.enqueue(new TextEncoder().encode(text.slice(i, i + 1000)));
          c.close();
        },
      });
      const res = await fetch(server.url + "/v1/projects/p/wos", {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.alice}`, "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      return { status: res.status, json: (await res.json()) as { error?: { code: string } } };
    };
    const before = await count();
    const big = await chunked(JSON.stringify({ items: [{ title: "x", description: "y".repeat(10_000) }] }));
    assert.equal(big.status, 413);
    assert.equal(big.json.error?.code, "PAYLOAD_TOO_LARGE");
    assert.equal(await count(), before);
    assert.equal((await chunked(JSON.stringify({ items: [{ title: "streamed" }] }))).status, 201);
    assert.equal(await count(), before + 1);
  });

  it("oversized and malformed bodies get 413/400 with the standard error body, and nothing is written", async () => {
    const before = await count();
    const big = await req("POST", "/v1/projects/p/wos", { token: tokens.alice, body: { items: [{ title: "x", description: "y".repeat(10_000) }] } });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, "PAYLOAD_TOO_LARGE");
    for (const raw of ["{not json", "[1,2]", '"str"', '{"items":[{"title":""}]}', '{"items":[{"title":"x","priority":"P7"}]}', '{"items":[],"surprise":1}']) {
      const r = await req("POST", "/v1/projects/p/wos", { token: tokens.alice, raw });
      assert.equal(r.status, 400, raw);
      assert.equal(r.json.error.code, "VALIDATION", raw);
      assert.equal(typeof r.json.error.message, "string");
    }
    assert.equal((await req("GET", "/v1/projects/p/wos/abc", { token: tokens.alice })).status, 400);
    assert.equal((await req("GET", "/v1/projects/p/wos/99", { token: tokens.alice })).status, 404);
    assert.equal((await req("GET", "/v1/nowhere", { token: tokens.alice })).status, 404);
    assert.equal(await count(), before);
  });

  it("text that is not text gets 400, never U+FFFD stored or a 500 (issue 13)", async () => {
    const before = await count();
    const post = (body: Uint8Array | string) =>
      fetch(`${server.url}/v1/projects/p/wos`, { method: "POST", headers: { authorization: `Bearer ${tokens.alice}`, "content-type": "application/json" }, body });
    const invalid = Buffer.concat([Buffer.from('{"items":[{"title":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    for (const body of [invalid, '{"items":[{"title":"\\ud800"}]}', '{"items":[{"title":"x\\u202eexe.pdf"}]}', '{"items":[{"title":"x","verification":"true\\u0085"}]}']) {
      const r = await post(body);
      const json = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(r.status, 400, String(body));
      assert.equal(json.error.code, "VALIDATION");
    }
    const ctx = await req("POST", "/v1/projects/p/context", { token: tokens.alice, raw: '{"body":"x","git":{"head":"\\u001b[2J","branch":null,"dirty":false}}' });
    assert.equal(ctx.status, 400);
    assert.equal(await count(), before);
  });

  it("a client that aborts mid-request is logged in one line as its own doing, and counted as 499, not 500 (issue 13)", async () => {
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (logged.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const { port } = new URL(server.url);
      for (const body of ['Content-Length: 1000\r\n\r\n{"items":', 'Transfer-Encoding: chunked\r\n\r\n5\r\n{"ite\r\n']) {
        const sock = connect(Number(port), "127.0.0.1");
        await new Promise((r) => sock.once("connect", r));
        sock.write(`POST /v1/projects/p/wos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokens.alice}\r\nContent-Type: application/json\r\n${body}`);
        await new Promise((r) => setTimeout(r, 100));
        sock.destroy();
      }
      const deadline = Date.now() + 5000;
      while (logged.filter((l) => /client closed/.test(l)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.stderr.write = write;
    }
    assert.equal(logged.filter((l) => /client closed POST \/v1\/projects\/p\/wos/.test(l)).length, 2, logged.join(""));
    assert.doesNotMatch(logged.join(""), /\n\s+at |INTERNAL|Error: aborted/);
    const text = (await req("GET", "/metrics", { token: tokens.rita })).json as string;
    const aborted = [...text.matchAll(/status="499"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(aborted, 2);
    assert.doesNotMatch(text, /status="500"/);
  });

  it("a failure of the server's own after the request body was read is a 500 with its stack logged, not a client's 499", async () => {
    const broken = await openLedger({ db: join(dir, "broken.db") });
    const token = (await broken.tokens.create({ agent: "ann", role: "agent" }, "admin")).token;
    broken.addNote = () => Promise.reject(new TypeError("a bug after the body was read"));
    const app = await startServer({ ledger: broken, host: "127.0.0.1", port: 0, version: "t" });
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (logged.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      const res = await fetch(`${app.url}/v1/projects/p/wos/1/notes`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: '{"body":"x"}',
      });
      assert.equal(res.status, 500);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "INTERNAL");
    } finally {
      process.stderr.write = write;
      await app.close();
      await broken.close();
    }
    assert.match(logged.join(""), /TypeError: a bug after the body was read/);
    assert.doesNotMatch(logged.join(""), /client closed/);
  });

  it("verification commands: the policy holds over HTTP, a role in the body changes nothing, and only the holder records (issue 13)", async () => {
    const [w] = (await req("POST", "/v1/projects/vt/wos", { token: tokens.alice, body: { items: [{ title: "x", verification: "npm test" }] } })).json;
    const path = `/v1/projects/vt/wos/${w.id}`;
    for (const body of [{ fields: { verification: "npm test; touch /tmp/pwned" } }, { fields: { verification: "npm test; touch /tmp/pwned" }, role: "admin" }]) {
      const r = await req("PATCH", path, { token: tokens.bob, body });
      assert.equal(r.status, 403, JSON.stringify(body));
      assert.equal(r.json.error.code, "FORBIDDEN");
    }
    assert.equal((await req("PATCH", "/v1/projects/vt", { token: tokens.bob, body: { verification_authors: "any" } })).status, 403);
    assert.match(
      (await req("PATCH", path, { token: tokens.bob, body: { fields: { verification: "x" } } })).json.error.hint,
      /\(set_policy verification_authors\)/,
      "hints in the API's words",
    );
    assert.equal((await req("PATCH", "/v1/projects/vt", { token: tokens.admin, body: { verification_authors: "admins" } })).json.policy.verification_authors, "admins");
    assert.equal((await req("PATCH", path, { token: tokens.alice, body: { fields: { verification: "make" } } })).status, 403, "admins only now");
    const claim = await req("POST", `${path}/claim`, { token: tokens.bob });
    assert.equal(claim.status, 200);
    assert.deepEqual((await req("GET", `${path}/verification`, { token: tokens.bob })).json, {
      project: "vt",
      id: w.id,
      command: "npm test",
      author: "alice",
      sandbox: { required: false, network: false, env: [] },
    });
    assert.equal((await req("GET", `${path}/verification`, { token: tokens.alice })).json.error.code, "LEASE_HELD");
    const forged = { passed: true, exit_code: 0, duration_ms: 1, output_tail: "", command: "npm test" };
    assert.equal((await req("POST", `${path}/verification`, { token: tokens.alice, body: forged })).status, 409);
    assert.equal((await req("POST", `${path}/notes`, { token: tokens.alice, body: { kind: "verification", body: "verification PASSED" } })).status, 400);
    const ok = await req("POST", `${path}/verification`, { token: tokens.bob, body: { ...forged, git: { head: "abc", branch: "main", dirty: false } } });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.command, "npm test");
    assert.match(ok.json.note.body, /PASSED in 0\.0s \(sandbox: none\) by bob at abc \(main\): npm test/);
  });

  it("maps every error code to the contract's status and counts conflicts and claims", async () => {
    const text = (await req("GET", "/metrics", { token: tokens.rita })).json as string;
    assert.match(text, /workledger_claims_total [1-9]/);
    assert.match(text, /workledger_conflicts_total [1-9]/);
    assert.match(text, /workledger_http_request_duration_seconds_bucket\{route="\/v1\/projects\/:project\/wos\/:id\/claim",le="\+Inf"\} \d+/);
  });

  it("claim next, update, notes, context and history through the API", async () => {
    await req("POST", "/v1/projects/q/wos", {
      token: tokens.alice,
      body: {
        items: [
          { title: "a", priority: "P3" },
          { title: "b", priority: "P0" },
        ],
      },
    });
    const next = await req("POST", "/v1/projects/q/wos/next/claim", { token: tokens.alice });
    assert.equal(next.json.id, 2);
    const upd = await req("PATCH", "/v1/projects/q/wos/2", { token: tokens.alice, body: { fields: { scope: "api" }, if_revision: next.json.revision } });
    assert.equal(upd.status, 200, JSON.stringify(upd.json));
    assert.equal((await req("POST", "/v1/projects/q/wos/2/notes", { token: tokens.bob, body: { kind: "finding", body: "seen" } })).json.agent, "bob");
    await req("POST", "/v1/projects/q/context", { token: tokens.alice, body: { body: "ctx", git: { head: "abc", branch: "main", dirty: false } } });
    const pulled = await req("GET", "/v1/projects/q/context?max_age=1h&head=def", { token: tokens.rita });
    assert.equal(pulled.json.verdict, "stale");
    const history = await req("GET", "/v1/projects/q/wos/2/history?limit=10", { token: tokens.rita });
    assert.deepEqual(
      history.json.map((e: { type: string }) => e.type),
      ["created", "claimed", "updated", "note_added"],
    );
  });

  it("streams events over SSE, resuming after Last-Event-ID", async () => {
    const ctl = new AbortController();
    const res = await fetch(`${server.url}/v1/events?project=sse`, { headers: { authorization: `Bearer ${tokens.rita}` }, signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    await ledger.create({ project: "sse", agent: "alice", items: [{ title: "live" }] });
    await ledger.claim({ project: "sse", agent: "alice", id: 1 });
    const reader = res.body!.getReader();
    let text = "";
    const deadline = Date.now() + 5000;
    while (!/event: claimed/.test(text) && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    ctl.abort();
    assert.match(text, /event: created\ndata: \{"seq":\d+/);
    const created = Number(/"seq":(\d+),"project":"sse","wo":1,"type":"created"/.exec(text)![1]);
    assert.match(text, /"type":"claimed"/);
    const resumed = new AbortController();
    const again = await fetch(`${server.url}/v1/events?project=sse`, {
      headers: { authorization: `Bearer ${tokens.rita}`, "last-event-id": String(created) },
      signal: resumed.signal,
    });
    const first = new TextDecoder().decode((await again.body!.getReader().read()).value);
    resumed.abort();
    assert.match(first, /^event: claimed/);
  });

  it("a revoked token's open event stream ends", async () => {
    const t = await ledger.tokens.create({ agent: "streamer", role: "reader" }, "admin");
    const res = await fetch(`${server.url}/v1/events?project=sse`, { headers: { authorization: `Bearer ${t.token}` } });
    assert.equal(res.status, 200);
    await ledger.tokens.revoke({ id: t.id }, "admin");
    const reader = res.body!.getReader();
    const deadline = Date.now() + 5000;
    let done = false;
    while (!done && Date.now() < deadline) done = (await reader.read()).done;
    assert.equal(done, true, "the stream was closed");
  });

  it("caps open event streams per token (issue 13)", async () => {
    const capped = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t", maxStreamsPerToken: 2, pollMs: 20 });
    const ctl = new AbortController();
    try {
      const open = (token: string) => fetch(`${capped.url}/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
      const [a, b] = [await open(tokens.rita!), await open(tokens.rita!)];
      assert.deepEqual([a.status, b.status], [200, 200]);
      const third = await open(tokens.rita!);
      assert.equal(third.status, 429);
      assert.match(((await third.json()) as { error: { message: string } }).error.message, /already has 2 open event streams/);
      assert.equal((await open(tokens.alice!)).status, 200, "other tokens are not affected");
      await a.body!.cancel();
      const deadline = Date.now() + 5000;
      let again = 429;
      while (again === 429 && Date.now() < deadline) {
        const r = await open(tokens.rita!);
        again = r.status;
        if (again === 429) await r.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(again, 200, "a closed stream frees its place");
    } finally {
      ctl.abort();
      await capped.close();
    }
  });

  it("cuts off clients that send headers too slowly, and caps open connections (issue 13)", async () => {
    const strict = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t", headersTimeoutMs: 300, maxConnections: 3, maxConnectionsPerAddress: 3 });
    const { port } = new URL(strict.url);
    const sockets: Socket[] = [];
    const closed = (sock: Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (sock.destroyed) return resolve(true);
        const timer = setTimeout(() => resolve(false), ms);
        sock.once("close", () => (clearTimeout(timer), resolve(true)));
      });
    const open = async () => {
      const sock = connect(Number(port), "127.0.0.1");
      sock.on("error", () => undefined);
      sock.resume(); // read what the server sends, so its closing is seen
      sockets.push(sock);
      await new Promise((r) => sock.once("connect", r));
      return sock;
    };
    try {
      const slow = await open();
      slow.write("GET /healthz HTTP/1.1\r\nHost: x\r\n"); // never finishes its headers
      assert.equal(await closed(slow, 5000), true, "a stalled request is cut off");
      const idle = [await open(), await open(), await open()];
      const fourth = await open();
      assert.equal(await closed(fourth, 2000), true, "past the cap, a connection is closed at once");
      assert.equal(
        idle.some((s) => s.destroyed),
        false,
      );
    } finally {
      sockets.forEach((s) => s.destroy());
      await strict.close();
    }
  });

  it("answers 429 past the rate limit", async () => {
    const tight = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t", rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${tight.url}/v1/projects`, { headers: { authorization: `Bearer ${tokens.alice}` } })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    } finally {
      await tight.close();
    }
  });

  it("limits bad tokens per address, and a flood of them never locks a valid token out (issue 13)", async () => {
    const guarded = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t", failedAuthLimit: { perSecond: 0.01, burst: 3 } });
    try {
      const get = (token: string, headers: Record<string, string> = {}) =>
        fetch(`${guarded.url}/v1/projects`, { headers: { authorization: `Bearer ${token}`, ...headers } }).then((r) => r.status);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push(await get(`wl_guess_${i}`));
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      // Bogus tokens (malformed and well-formed) interleaved with a valid one: the valid one always passes.
      const valid: number[] = [];
      for (let i = 0; i < 20; i++) {
        assert.equal(await get(i % 2 ? `wl_000000000000_${"A".repeat(32)}` : "nonsense"), 429);
        valid.push(await get(tokens.admin!));
      }
      assert.deepEqual(valid, Array(20).fill(200));
      // Without a trusted proxy, X-Forwarded-For is the client's own claim and changes nothing.
      assert.equal(await get("nonsense", { "x-forwarded-for": "203.0.113.9" }), 429);
    } finally {
      await guarded.close();
    }
  });

  it("behind a trusted proxy, limits bad tokens per forwarded client address", async () => {
    const proxied = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "t", failedAuthLimit: { perSecond: 0.01, burst: 2 }, trustProxy: ["127.0.0.0/8", "::1"] });
    try {
      const get = (xff: string) => fetch(`${proxied.url}/v1/projects`, { headers: { authorization: "Bearer nonsense", "x-forwarded-for": xff } }).then((r) => r.status);
      assert.deepEqual([await get("203.0.113.9"), await get("203.0.113.9"), await get("203.0.113.9")], [401, 401, 429]);
      assert.equal(await get("198.51.100.7"), 401, "another client behind the same proxy has its own allowance");
      // A client that prepends a fake address is still known by the address the proxy appended.
      assert.equal(await get("198.51.100.99, 203.0.113.9"), 429);
    } finally {
      await proxied.close();
    }
  });

  it("refuses to listen beyond loopback when no token exists", async () => {
    const empty = await openLedger({ db: join(dir, "empty.db") });
    try {
      await assert.rejects(startServer({ ledger: empty, host: "0.0.0.0", port: 0, version: "t" }), /refusing to listen on 0.0.0.0 without any API token/);
    } finally {
      await empty.close();
    }
  });
});
