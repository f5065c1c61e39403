/**
 * Outbound HTTP for webhooks (issue 26): only http(s), every address judged
 * (core/address.ts) after DNS resolution and on every connection (a name
 * that resolved to a public address at creation may not resolve to the
 * metadata service at delivery), no redirects followed, a deadline on the
 * whole exchange, and no more of the answer read than a short excerpt.
 */
import { lookup as dnsLookup } from "node:dns";
import { lookup as lookupAll } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { addressRefused } from "../core/address.js";

/** Every address a host name resolves to (what webhook add judges). */
export async function resolveHost(host: string): Promise<string[]> {
  return (await lookupAll(host, { all: true, verbatim: true })).map((a) => a.address);
}

export interface Answer {
  status: number;
  /** The start of the answer's body, for an error message. */
  excerpt: string;
}

const EXCERPT_BYTES = 300;

/** A lookup that refuses a connection to any address the destination may not have. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, "", 4);
      const list = addresses as unknown as { address: string; family: number }[];
      for (const a of list) {
        const why = addressRefused(a.address, allowPrivate);
        if (why) return callback(Object.assign(new Error(`refused: ${hostname} resolves to ${a.address}, ${why}`), { code: "EREFUSED_ADDRESS" }), "", 4);
      }
      if (options.all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** POSTs `body` to `url`; resolves with the status (whatever it is), rejects when no answer came (refused address, timeout, network). */
export function post(url: URL, headers: Record<string, string>, body: string, opts: { timeoutMs: number; allowPrivate: boolean }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host)) {
      const why = addressRefused(host, opts.allowPrivate);
      if (why) return reject(new Error(`refused: ${host} is ${why}`));
    }
    const lib = url.protocol === "https:" ? https : http;
    const req = lib.request(url, {
      method: "POST",
      headers: { ...headers, "content-length": Buffer.byteLength(body), "user-agent": "workledger-webhooks" },
      lookup: guardedLookup(opts.allowPrivate),
      agent: false, // a fresh connection each time: every delivery's addresses are judged anew
      timeout: opts.timeoutMs,
    });
    const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on("error", (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    req.on("response", (res) => {
      let excerpt = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (excerpt.length < EXCERPT_BYTES) excerpt += chunk;
        if (excerpt.length >= EXCERPT_BYTES) res.destroy(); // the rest is not ours to read
      });
      const done = () => {
        clearTimeout(deadline);
        resolve({ status: res.statusCode ?? 0, excerpt: excerpt.slice(0, EXCERPT_BYTES).replace(/\s+/g, " ").trim() });
      };
      res.on("end", done);
      res.on("close", done);
      res.on("error", done);
    });
    req.end(body);
  });
}
