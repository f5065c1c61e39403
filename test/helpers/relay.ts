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

  /**
   * Chunks leave in order, each no earlier than its delay after it arrived:
   * one queue per direction drained by one timer at a time (timers of
   * different lengths due at the same moment may fire in either order, and
   * a reordered byte stream is not a network fault TCP lets through).
   */
  private forward(from: net.Socket, to: net.Socket, due: { at: number }): void {
    const queue: { at: number; data: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const drain = () => {
      timer = undefined;
      while (queue.length && queue[0]!.at <= Date.now()) {
        const { data } = queue.shift()!;
        if (!to.destroyed) to.write(data);
      }
      if (queue.length) timer = setTimeout(drain, queue[0]!.at - Date.now());
    };
    from.on("data", (d: Buffer) => {
      const c = this.conditions;
      if (c.reset > 0 && Math.random() < c.reset) {
        this.resets++;
        from.resetAndDestroy();
        to.resetAndDestroy();
        return;
      }
      const stall = c.loss > 0 && Math.random() < c.loss ? 200 + Math.random() * 800 : 0;
      const at = Math.max(queue.at(-1)?.at ?? 0, Date.now() + c.delayMs + stall);
      due.at = Math.max(due.at, at);
      queue.push({ at, data: d });
      if (timer === undefined) drain();
    });
  }

  close(): void {
    this.server?.close();
    for (const s of this.open) s.destroy();
  }
}
