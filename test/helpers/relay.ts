/**
 * A TCP relay of the test's own between two test hosts, standing in for a
 * network path (this kernel has no netem): it adds delay and, for loss, what
 * loss does to TCP, a stall of a retransmission timeout on a segment (bytes
 * are never dropped, TCP resends them) and, rarely, a reset connection.
 * Order within a connection is kept.
 */
import net from "node:net";

export interface Conditions {
  /** Added to every chunk, each way (ms). */
  delayMs: number;
  /** Chance per chunk of a 200–1000 ms stall, as a lost segment's retransmission costs. */
  loss: number;
  /** Chance per chunk that the connection is reset instead. */
  reset: number;
}

export const CLEAN: Conditions = { delayMs: 0, loss: 0, reset: 0 };

export class Relay {
  conditions: Conditions = { ...CLEAN };
  private readonly open = new Set<net.Socket>();
  private server?: net.Server;
  resets = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  listen(host: string, port = 0): Promise<number> {
    this.server = net.createServer((client) => this.pipe(client));
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve((this.server!.address() as net.AddressInfo).port));
    });
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    for (const s of [client, upstream]) {
      this.open.add(s);
      s.on("close", () => this.open.delete(s));
      s.on("error", () => undefined);
    }
    // When the last delayed chunk of either way is due: a side that closes is passed on after it.
    const due = { at: 0 };
    this.forward(client, upstream, due);
    this.forward(upstream, client, due);
    const end = () =>
      setTimeout(
        () => {
          client.destroy();
          upstream.destroy();
        },
        Math.max(0, due.at - Date.now()),
      );
    client.on("close", end);
    upstream.on("close", end);
  }

  /** Chunks leave in order, each no earlier than its delay after it arrived. */
  private forward(from: net.Socket, to: net.Socket, due: { at: number }): void {
    let last = 0;
    from.on("data", (d: Buffer) => {
      const c = this.conditions;
      if (c.reset > 0 && Math.random() < c.reset) {
        this.resets++;
        from.resetAndDestroy();
        to.resetAndDestroy();
        return;
      }
      const stall = c.loss > 0 && Math.random() < c.loss ? 200 + Math.random() * 800 : 0;
      last = Math.max(last, Date.now() + c.delayMs + stall);
      due.at = Math.max(due.at, last);
      const wait = last - Date.now();
      if (wait <= 0) to.write(d);
      else
        setTimeout(() => {
          if (!to.destroyed) to.write(d);
        }, wait);
    });
  }

  close(): void {
    this.server?.close();
    for (const s of this.open) s.destroy();
  }
}
