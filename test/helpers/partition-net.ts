/**
 * The partition tests' network: PostgreSQL on the test's own host, each
 * `serve` on a test host of its own with two links (one towards PostgreSQL,
 * one towards its agents), and agent hosts with one link each. Every path
 * between hosts goes through a relay on the test's host (relay.ts) that can
 * add delay and loss; every link can be taken down. So a `serve` can be cut
 * off from PostgreSQL while its agents still reach it, and an agent host can
 * be cut off from its `serve`.
 *
 *   agents[j] ──link──▶ relay ──▶ servers[j % n] ──link──▶ relay ──▶ PostgreSQL
 */
import type { ChildProcess, SpawnOptions } from "node:child_process";
import { TestNet, type Link } from "./netns.ts";
import { Relay } from "./relay.ts";
import { serve } from "./serve.ts";

export interface ServeHost {
  ns: string;
  /** Towards PostgreSQL. */
  db: Link;
  dbRelay: Relay;
  /** Towards the agents. */
  front: Link;
  port: number;
  child: ChildProcess;
  /** The server's URL from the test's own host (no relay, no agent link). */
  url: string;
  stderr(): string;
}

export interface AgentHost {
  ns: string;
  link: Link;
  relay: Relay;
  /** The URL agents on this host give the remote client: through the relay to their server. */
  url: string;
}

export interface PartitionNetOptions {
  servers: number;
  agentHosts: number;
  /** PostgreSQL as the test's host reaches it. */
  pg: { host: string; port: number; user: string; database: string; schema: string };
  /** Extra URL parameters for the servers' database URL (timeouts). */
  dbParams?: Record<string, string>;
  env?: Record<string, string>;
}

export class PartitionNet {
  readonly servers: ServeHost[] = [];
  readonly agents: AgentHost[] = [];
  /** Servers that stopped without being told to: a failure of the run. */
  readonly crashes: string[] = [];
  private stopping = false;
  private readonly net = new TestNet();

  static async start(o: PartitionNetOptions): Promise<PartitionNet> {
    const p = new PartitionNet();
    try {
      for (let i = 0; i < o.servers; i++) p.servers.push(await p.serveHost(i, o));
      for (let j = 0; j < o.agentHosts; j++) {
        const ns = p.net.host(`a${j}`);
        const link = p.net.link(ns);
        const s = p.servers[j % p.servers.length]!;
        const relay = new Relay({ host: s.front.remote, port: s.port });
        const port = await relay.listen(link.local);
        p.agents.push({ ns, link, relay, url: `http://${link.local}:${port}` });
      }
      return p;
    } catch (e) {
      p.stop();
      throw e;
    }
  }

  private async serveHost(i: number, o: PartitionNetOptions): Promise<ServeHost> {
    const ns = this.net.host(`s${i}`);
    const db = this.net.link(ns);
    const front = this.net.link(ns);
    const dbRelay = new Relay({ host: o.pg.host, port: o.pg.port });
    const dbPort = await dbRelay.listen(db.local);
    const params = new URLSearchParams({ options: `-c search_path=${o.pg.schema}`, ...(o.dbParams ?? {}) });
    const databaseUrl = `postgres://${o.pg.user}@${db.local}:${dbPort}/${o.pg.database}?${params}`;
    const s = await serve(
      { ...(o.env ?? {}), WORKLEDGER_DATABASE_URL: databaseUrl },
      ["--host", front.remote, "--rate", "100000", "--burst", "100000", "--read-rate", "1000000000", "--read-burst", "1000000000"],
      ["ip", "netns", "exec", ns],
    );
    s.child.once("close", (code, signal) => {
      if (!this.stopping) this.crashes.push(`serve on ${ns} exited by itself (${code ?? signal}): ${s.stderr().slice(-2000)}`);
    });
    return { ns, db, dbRelay, front, port: Number(new URL(s.url).port), child: s.child, url: s.url, stderr: s.stderr };
  }

  /** A process on agent host j. */
  spawnAgent(j: number, command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return this.net.spawn(this.agents[j]!.ns, command, args, opts);
  }

  stop(): void {
    this.stopping = true;
    for (const s of this.servers) {
      s.child.kill("SIGKILL");
      s.dbRelay.close();
    }
    for (const a of this.agents) a.relay.close();
    this.net.destroy();
  }
}
