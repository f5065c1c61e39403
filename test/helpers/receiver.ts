/** A webhook receiver on 127.0.0.1 that checks every delivery with the standardwebhooks reference verifier. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Delivery {
  id: string;
  /** The ledger event's seq (null for a test message). */
  seq: number | null;
  type: string;
  verified: boolean;
  body: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  /** Every request, in the order it arrived (including those answered with an error). */
  deliveries: Delivery[];
  /** Those answered 2xx. */
  accepted(): Delivery[];
  /** The status to answer the next request with (default 200). */
  answer: (d: Delivery) => number;
  secret: string;
  close(): Promise<void>;
}

export async function receiver(): Promise<Receiver> {
  const r: Receiver = {
    url: "",
    deliveries: [],
    accepted: () => r.deliveries.filter((d) => statuses.get(d) === 200),
    answer: () => 200,
    secret: "",
    close: () => new Promise((done) => server.close(() => done())),
  };
  const statuses = new Map<Delivery, number>();
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      let verified = false;
      try {
        new Webhook(r.secret).verify(raw, req.headers as Record<string, string>);
        verified = true;
      } catch {
        verified = false;
      }
      const body = JSON.parse(raw) as { type: string; data: { seq?: number } };
      const d: Delivery = { id: String(req.headers["webhook-id"]), seq: body.data?.seq ?? null, type: body.type, verified, body };
      r.deliveries.push(d);
      const status = r.answer(d);
      statuses.set(d, status === 200 ? 200 : status);
      res.writeHead(status).end(status === 200 ? "ok" : "receiver is down");
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}
