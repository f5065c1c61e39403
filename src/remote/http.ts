/**
 * One JSON request over node:http(s) with keep-alive. Node 20's fetch
 * (undici) cost about 0.85 ms more per request on this project's benchmark
 * machine than http.request on a reused socket, a third of what `serve`
 * added per call; agents talk to the server in tight loops, so it matters.
 */
import http from "node:http";
import https from "node:https";
import { once } from "../core/lazy.js";

/** Made on the first request: a CLI command that never goes remote does not load node:http (scripts/bundle-cli.mjs). */
const agents = once(() => ({ "http:": new http.Agent({ keepAlive: true }), "https:": new https.Agent({ keepAlive: true }) }));

export interface Answer {
  status: number;
  text: string;
  headers?: http.IncomingHttpHeaders;
}

export function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<Answer> {
  const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : null;
  if (client === null) return Promise.reject(new Error(`unsupported protocol ${url.protocol} (use http: or https:)`));
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method,
        headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent: agents()[url.protocol as "http:" | "https:"],
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)));
    req.on("error", reject);
    req.end(body);
  });
}
