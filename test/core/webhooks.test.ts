/** The rules of webhooks and outbound addresses (issue 26), without a server. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook as Verifier } from "standardwebhooks";
import { post } from "../../src/net/outbound.ts";
import { addressKind, addressRefused } from "../../src/core/address.ts";
import type { LedgerEvent } from "../../src/core/types.ts";
import { backoffMs, failed, message, needsHuman, newWebhookSecret, NO_HEALTH, signedHeaders, wants, type Webhook } from "../../src/core/webhooks.ts";

const ev = (type: LedgerEvent["type"], data: Record<string, unknown> = {}, project = "p"): LedgerEvent => ({
  seq: 7,
  project,
  wo: 3,
  type,
  agent: "bob",
  revision: 1,
  at: "2026-12-05T00:00:00.000Z",
  data,
});
const hook = (over: Partial<Webhook> = {}): Webhook => ({
  id: "abcdefabcdef",
  url: "https://example.com/h",
  format: "standard",
  events: ["needs-human"],
  project: null,
  secret: newWebhookSecret(),
  allow_private: false,
  state: "active",
  cursor: 0,
  created_by: "root",
  created_at: "2026-12-05T00:00:00.000Z",
  health: NO_HEALTH,
  owner: null,
  owner_until: null,
  ...over,
});

describe("outbound calls (issue 26)", () => {
  it("judge the addresses a name resolves to on the connection itself, follow no redirect, and keep a short excerpt of the answer", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/moved") res.writeHead(302, { location: "http://169.254.169.254/" }).end();
      else res.writeHead(500).end("x".repeat(10_000));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
    const port = (server.address() as AddressInfo).port;
    try {
      const opts = { timeoutMs: 2000, allowPrivate: false };
      await assert.rejects(post(new URL(`http://localhost:${port}/`), {}, "{}", opts), /refused: localhost resolves to 127\.0\.0\.1, a loopback address/);
      await assert.rejects(post(new URL(`http://127.0.0.1:${port}/`), {}, "{}", opts), /refused: 127\.0\.0\.1 is a loopback address/);
      const allowed = { ...opts, allowPrivate: true };
      const moved = await post(new URL(`http://localhost:${port}/moved`), {}, "{}", allowed);
      assert.equal(moved.status, 302, "a redirect is an answer, not followed");
      const failed = await post(new URL(`http://localhost:${port}/`), {}, "{}", allowed);
      assert.equal(failed.status, 500);
      assert.ok(failed.excerpt.length <= 300, `excerpt of ${failed.excerpt.length} characters`);
    } finally {
      server.close();
    }
  });
});

describe("webhook rules (issue 26)", () => {
  it("needs-human: blocked, dead-lettered, a lease lost, a failed verification, a lapsed holder's refused write; nothing else", () => {
    assert.equal(needsHuman(ev("released", { status: "blocked" })), "blocked");
    assert.equal(needsHuman(ev("status_changed", { from: "claimed", to: "blocked" })), "blocked");
    assert.match(needsHuman(ev("expired", { holder: "bob", dead_letter: "2 of 2 attempts used" }))!, /dead-lettered: 2 of 2 attempts used/);
    assert.match(needsHuman(ev("expired", { holder: "bob" }))!, /lease lost: bob's lease lapsed/);
    assert.equal(needsHuman(ev("note_added", { kind: "verification", passed: false })), "verification failed");
    assert.match(needsHuman(ev("write_refused", { code: "LEASE_LOST" }))!, /refused/);
    for (const quiet of [ev("claimed"), ev("note_added", { kind: "verification", passed: true }), ev("released", { status: "done" }), ev("status_changed", { to: "open" })])
      assert.equal(needsHuman(quiet), null, quiet.type);
  });

  it("a subscription takes the events it names, of its project", () => {
    assert.ok(wants(hook(), ev("expired", { holder: "x" })));
    assert.ok(!wants(hook(), ev("claimed")));
    assert.ok(wants(hook({ events: ["claimed"] }), ev("claimed")));
    assert.ok(wants(hook({ events: ["*"] }), ev("renewed")));
    assert.ok(!wants(hook({ events: ["*"], project: "q" }), ev("renewed")));
  });

  it("messages are signed the Standard Webhooks way, with an id that is the same on every retry", () => {
    const w = hook();
    const m = message(w, ev("expired", { holder: "bob" }));
    assert.equal(m.id, "msg_abcdefabcdef_7");
    assert.equal(message(w, ev("expired", { holder: "bob" })).id, m.id);
    const headers = signedHeaders(w.secret, m.id, Math.floor(Date.now() / 1000), m.body);
    const body = new Verifier(w.secret).verify(m.body, headers) as { type: string; data: { needs_human: string } };
    assert.equal(body.type, "workledger.expired");
    assert.match(body.data.needs_human, /lease lost/);
    assert.throws(() => new Verifier(newWebhookSecret()).verify(m.body, headers), /signature/i);
    assert.deepEqual(JSON.parse(message(hook({ format: "slack" }), ev("released", { status: "blocked" })).body), { text: "[needs a human: blocked] p WO-3: released by bob" });
  });

  it("retries back off exponentially with jitter up to the cap; failing past the window suspends", () => {
    assert.equal(backoffMs(1, 1000, 300_000, 0), 500);
    assert.equal(backoffMs(1, 1000, 300_000, 0.999_999), 1000);
    assert.equal(backoffMs(4, 1000, 300_000, 0), 4000);
    assert.equal(backoffMs(40, 1000, 300_000, 0.999_999), 300_000);
    const once = failed(hook(), "HTTP 500", "2026-12-05T00:00:00.000Z", 60_000);
    assert.deepEqual([once.state, once.health.failures, once.health.failing_since], ["active", 1, "2026-12-05T00:00:00.000Z"]);
    const later = failed(once, "HTTP 500 again", "2026-12-05T00:01:00.000Z", 60_000);
    assert.deepEqual([later.state, later.health.last_error], ["suspended", "HTTP 500 again"]);
  });

  it("classifies addresses by their ranges, IPv4-mapped and NAT64 ones as the IPv4 they carry", () => {
    const cases: [string, string][] = [
      ["8.8.8.8", "public"],
      ["169.254.169.254", "metadata"],
      ["100.100.100.200", "metadata"],
      ["169.254.1.1", "link-local"],
      ["10.0.0.1", "private"],
      ["172.31.255.255", "private"],
      ["172.32.0.1", "public"],
      ["192.168.1.1", "private"],
      ["100.64.0.1", "private"],
      ["127.0.0.1", "loopback"],
      ["0.0.0.0", "unspecified"],
      ["224.0.0.1", "multicast"],
      ["255.255.255.255", "reserved"],
      ["::1", "loopback"],
      ["::", "unspecified"],
      ["fe80::1", "link-local"],
      ["fd12::1", "private"],
      ["fd00:ec2::254", "metadata"],
      ["::ffff:169.254.169.254", "metadata"],
      ["::ffff:10.0.0.1", "private"],
      ["64:ff9b::a9fe:a9fe", "metadata"],
      ["2606:4700::1111", "public"],
      ["not an ip", "reserved"],
    ];
    for (const [ip, kind] of cases) assert.equal(addressKind(ip), kind, ip);
    assert.equal(addressRefused("10.0.0.1", true), null);
    assert.match(addressRefused("169.254.169.254", true)!, /metadata/);
  });
});
