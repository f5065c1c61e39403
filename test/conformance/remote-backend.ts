/**
 * The remote back end for the conformance suite: an in-process `serve` over
 * a SQLite ledger with the test clock, and one RemoteLedger per agent, each
 * with its own token, because over HTTP the identity is the token's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LedgerApi } from "../../src/core/api.ts";
import type { Role } from "../../src/core/types.ts";
import { startServer } from "../../src/doors/http/server.ts";
import { openLedger } from "../../src/index.ts";
import { RemoteLedger } from "../../src/remote/client.ts";
import type { Clock } from "./backends.ts";

export async function openRemote(clock: Clock): Promise<{ ledger: LedgerApi; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "workledger-remote-"));
  const local = await openLedger({ db: join(dir, "ledger.db"), clock: () => clock.now });
  const server = await startServer({
    ledger: local,
    host: "127.0.0.1",
    port: 0,
    version: "test",
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    readLimit: { perSecond: 1e9, burst: 1e9 },
  });
  const clients = new Map<string, Promise<RemoteLedger>>();
  const as = (agent: string, role: Role) => {
    let c = clients.get(`${agent}/${role}`);
    if (!c) {
      c = local.tokens.create({ agent, role }, "admin").then((t) => new RemoteLedger(server.url, t.token));
      clients.set(`${agent}/${role}`, c);
    }
    return c;
  };
  // Route each call to a client with a token for the agent and role named in its input (reads go as
  // "reader"). No role is an agent token, as a caller without a role is an agent locally.
  const ledger = new Proxy({} as LedgerApi, {
    get(_t, prop) {
      if (prop === "close") return async () => undefined;
      if (prop === "info") return { kind: "remote", location: server.url, schema_version: 0 };
      return async (input?: { agent?: unknown; role?: Role }) => {
        const agent = typeof input?.agent === "string" ? input.agent : "reader";
        const client = await as(agent, input?.role ?? "agent");
        return (client[prop as keyof RemoteLedger] as (i: unknown) => Promise<unknown>).call(client, input);
      };
    },
  });
  return {
    ledger,
    async cleanup() {
      await server.close();
      await local.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
