/**
 * Issue 17: a reply lost after the server committed. A proxy between the
 * remote client and a real `serve` forwards a claim, lets the server commit
 * and answer, and cuts the client's connection instead of passing the answer
 * on. The client sends the claim again with the idempotency key it chose, and
 * holds the lease once: the same token, one `claimed` event.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { RemoteLedger } from "../../src/remote/client.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";

/** A TCP proxy to `target` that swallows the answer to the first request whose first line matches `lose`, and closes that connection. */
function lossyProxy(target: URL, lose: RegExp): Promise<{ url: string; lost: () => number; close: () => void }> {
  let lost = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const sock of [client, upstream]) {
      open.add(sock);
      sock.on("close", () => open.delete(sock));
    }
    let dropping = false;
    client.on("data", (d: Buffer) => {
      if (lost === 0 && lose.test(d.toString("latin1").split("\r\n")[0] ?? "")) dropping = true;
      upstream.write(d);
    });
    upstream.on("data", (d: Buffer) => {
      if (!dropping) return void client.write(d);
      lost++;
      dropping = false;
      client.destroy(); // the server committed and answered; the client never hears it
      upstream.destroy();
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      const close = () => {
        server.close();
        for (const sock of open) sock.destroy();
      };
      resolve({ url: `http://127.0.0.1:${port}`, lost: () => lost, close });
    }),
  );
}

describe("a claim whose reply is lost after the commit (issue 17)", () => {
  let s: Sandbox;
  let server: ServeProcess;
  before(async () => {
    s = sandbox();
    assert.equal(s.run(["create", "-p", "lost", "--agent", "obs", "--title", "contested"]).code, 0);
    server = await serve(s.env);
  });
  after(async () => {
    await server.stop();
    s.cleanup();
  });

  it("is retried by the remote client with its key and holds the lease exactly once", async () => {
    const token = s.run(["token", "create", "--as-admin", "--agent", "ann", "--role", "agent", "--json"]).json.token as string;
    const proxy = await lossyProxy(new URL(server.url), /^POST \/v1\/projects\/lost\/wos\/1\/claim /);
    try {
      const client = new RemoteLedger(proxy.url, token);
      const wo = await client.claim({ project: "lost", agent: "ann", id: 1 });
      assert.equal(proxy.lost(), 1, "the first answer was lost");
      assert.deepEqual([wo.lease?.agent, wo.lease?.token], ["ann", 1]);
      const history = s.run(["history", "-p", "lost", "--id", "1", "--json"]).json as { type: string }[];
      assert.equal(history.filter((e) => e.type === "claimed").length, 1, "claimed once");
      // Without the key the retry would have been refused as someone else's claim; a new key is a new claim.
      const again = await new RemoteLedger(server.url, token).claim({ project: "lost", agent: "ann", id: 1 }).catch((e: { code: string }) => e.code);
      assert.equal(again, "LEASE_HELD");
    } finally {
      proxy.close();
    }
  });
});

/** A TCP proxy to the first of `targets` that accepts the connection (a dead server refuses it). */
function failoverProxy(targets: URL[]): Promise<{ url: string; close: () => void }> {
  const open = new Set<net.Socket>();
  const track = (sock: net.Socket) => {
    open.add(sock);
    sock.on("close", () => open.delete(sock));
  };
  const server = net.createServer((client) => {
    track(client);
    client.pause();
    const attempt = (i: number) => {
      const t = targets[i];
      if (!t) return void client.destroy();
      const upstream = net.connect(Number(t.port), t.hostname);
      track(upstream);
      upstream.once("error", () => (upstream.bytesWritten === 0 ? attempt(i + 1) : client.destroy()));
      upstream.once("connect", () => {
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        upstream.on("close", () => client.destroy());
      });
    };
    attempt(0);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => {
          server.close();
          for (const sock of open) sock.destroy();
        },
      });
    }),
  );
}

describe("a claim whose server is SIGKILLed after the commit, before the reply (issue 17)", () => {
  let s: Sandbox;
  let doomed: ServeProcess;
  let spare: ServeProcess;
  before(async () => {
    s = sandbox();
    assert.equal(s.run(["create", "-p", "lost", "--agent", "obs", "--title", "contested"]).code, 0);
    // Two servers on one ledger, as a team runs them; the first dies right after committing a claim.
    doomed = await serve({ ...s.env, WORKLEDGER_FAILPOINT: "kill-after-commit:claim" });
    spare = await serve(s.env);
  });
  after(async () => {
    await doomed.stop();
    await spare.stop();
    s.cleanup();
  });

  it("the client's automatic retry reaches the other server and holds the lease exactly once", async () => {
    const token = s.run(["token", "create", "--as-admin", "--agent", "ann", "--role", "agent", "--json"]).json.token as string;
    const proxy = await failoverProxy([new URL(doomed.url), new URL(spare.url)]);
    try {
      const wo = await new RemoteLedger(proxy.url, token).claim({ project: "lost", agent: "ann", id: 1 });
      assert.deepEqual([wo.lease?.agent, wo.lease?.token], ["ann", 1]);
      const history = s.run(["history", "-p", "lost", "--id", "1", "--json"]).json as { type: string }[];
      assert.equal(history.filter((e) => e.type === "claimed").length, 1, "claimed once");
      const probe = await fetch(`${doomed.url}/healthz`).then(
        () => "alive",
        () => "dead",
      );
      assert.equal(probe, "dead", "the first server really died after the commit");
    } finally {
      proxy.close();
    }
  });
});
