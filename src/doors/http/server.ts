/** `workledger serve`: the HTTP API on a socket, with a graceful stop. */
import type { AddressInfo, Socket } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { LedgerError } from "../../core/errors.js";
import type { Ledger } from "../../core/ledger.js";
import { createApp, type AppOptions } from "./app.js";
import { trustProxies, type ProxyTrust } from "./client-address.js";
import { Metrics } from "./metrics.js";

export interface ServeOptions extends Omit<AppOptions, "stop"> {
  host: string;
  port: number;
  /** Open connections at most; more are closed as they arrive (default 1024). */
  maxConnections?: number;
  /** Open connections from one address at most (default a quarter of maxConnections); trusted proxies are exempt. */
  maxConnectionsPerAddress?: number;
  /** Time allowed to receive a request's headers, and the whole request (ms; defaults 10 s and 30 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** How often Node looks for requests past their time (it checks on an interval, not per request). */
const TIMEOUT_CHECK_MS = 1000;

export interface RunningServer {
  url: string;
  /** Stops accepting, lets in-flight requests finish, ends event streams. The ledger stays open. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** One address holds at most `cap` connections, so it cannot take every slot of --max-connections; more are closed as they arrive. */
function capPerAddress(server: Server, cap: number, proxy: ProxyTrust): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "unknown";
    if (proxy(address)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > cap) {
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

export async function startServer(opts: ServeOptions & { ledger: Ledger }): Promise<RunningServer> {
  if (!LOOPBACK.has(opts.host) && !(await opts.ledger.tokens.any())) {
    throw new LedgerError("VALIDATION", `refusing to listen on ${opts.host} without any API token`, {
      hint: "create tokens first (workledger token create --as-admin --agent NAME --role agent), or bind 127.0.0.1",
      details: { issues: [{ field: "host", message: "non-loopback without tokens" }] },
    });
  }
  const stop = new AbortController();
  const app = createApp({ ...opts, metrics: opts.metrics ?? new Metrics(), stop: stop.signal });
  const server = await new Promise<Server>((resolve, reject) => {
    // Slow or stalled clients (slowloris) are cut off; event streams are responses, which these do not limit.
    const headersTimeout = opts.headersTimeoutMs ?? 10_000;
    const serverOptions = { headersTimeout, requestTimeout: Math.max(headersTimeout, opts.requestTimeoutMs ?? 30_000), connectionsCheckingInterval: TIMEOUT_CHECK_MS };
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, serverOptions }, () => resolve(s as Server)) as Server;
    s.once("error", (e) => reject(new LedgerError("UNAVAILABLE", `cannot listen on ${opts.host}:${opts.port}: ${(e as Error).message}`, { hint: "pick another --port" })));
  });
  server.keepAliveTimeout = 65_000; // longer than the usual proxy's idle timeout (60 s), so the proxy closes first
  server.maxConnections = opts.maxConnections ?? 1024;
  capPerAddress(server, opts.maxConnectionsPerAddress ?? Math.max(1, Math.floor(server.maxConnections / 4)), trustProxies(opts.trustProxy ?? []));
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        stop.abort();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
