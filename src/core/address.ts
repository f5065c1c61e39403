/**
 * Where an outbound call may go (issue 26, webhooks): what an IP address is,
 * judged by its ranges alone, so that a token holder cannot point the server
 * at its cloud's metadata service, a link-local host or (unless an admin
 * allows private ones) the server's own network. Checked for every address a
 * host name resolves to, on every connection (net/outbound.ts).
 */
import { isIP } from "node:net";

export type AddressKind = "public" | "private" | "loopback" | "link-local" | "metadata" | "unspecified" | "multicast" | "reserved";

/** IPv4 ranges by the kind they make an address; the first that holds it decides. */
const V4: readonly [string, number, AddressKind][] = [
  ["169.254.169.254", 32, "metadata"], // AWS, GCP, Azure, OpenStack…
  ["100.100.100.200", 32, "metadata"], // Alibaba Cloud
  ["0.0.0.0", 8, "unspecified"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["10.0.0.0", 8, "private"],
  ["172.16.0.0", 12, "private"],
  ["192.168.0.0", 16, "private"],
  ["100.64.0.0", 10, "private"], // carrier-grade NAT
  ["198.18.0.0", 15, "private"], // benchmarking networks
  ["192.0.0.0", 24, "reserved"],
  ["192.0.2.0", 24, "reserved"],
  ["198.51.100.0", 24, "reserved"],
  ["203.0.113.0", 24, "reserved"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"], // and the broadcast address
];

const v4Number = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);

function kindV4(ip: string): AddressKind {
  const n = v4Number(ip);
  for (const [base, bits, kind] of V4) {
    const size = 2 ** (32 - bits);
    if (Math.floor(n / size) === Math.floor(v4Number(base) / size)) return kind;
  }
  return "public";
}

/** An IPv6 address as 8 groups (`::` expanded; an embedded IPv4 tail as two groups). */
function groupsV6(ip: string): number[] {
  let s = ip.toLowerCase().replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = v4Number(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function kindV6(ip: string): AddressKind {
  const g = groupsV6(ip);
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d): judged as the IPv4 address they carry.
  if ((g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) || (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)))
    return kindV4(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
  if (g[0] === 0xfd00 && g[1] === 0xec2 && g.slice(2, 7).every((x) => x === 0) && g[7] === 0x254) return "metadata"; // AWS over IPv6
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xfe00) === 0xfc00) return "private"; // unique local
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  if (g[0] === 0x2001 && g[1] === 0xdb8) return "reserved"; // documentation
  return "public";
}

/** The kind of an IP address (v4 or v6); anything that is not one is "reserved". */
export function addressKind(ip: string): AddressKind {
  const v = isIP(ip.replace(/^\[|\]$/g, ""));
  return v === 4 ? kindV4(ip) : v === 6 ? kindV6(ip.replace(/^\[|\]$/g, "")) : "reserved";
}

/** Why an outbound call may not go to `ip`, as "a loopback address (…)" (null: it may); private and loopback addresses only when allowed. */
export function addressRefused(ip: string, allowPrivate: boolean): string | null {
  const kind = addressKind(ip);
  if (kind === "public") return null;
  if (allowPrivate && (kind === "private" || kind === "loopback")) return null;
  const allow = kind === "private" || kind === "loopback" ? " (an admin may allow private and loopback addresses for a subscription)" : "";
  return `${kind === "unspecified" ? "an" : "a"} ${kind} address${allow}`;
}

/**
 * Why `url` may not receive outbound calls (null: it may): its host if it is
 * an address, else every address `resolve` gives for it (without `resolve`,
 * names pass here and are judged on each connection).
 */
export async function destinationRefused(url: URL, allowPrivate: boolean, resolve?: (host: string) => Promise<string[]>): Promise<string | null> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host)) {
    const why = addressRefused(host, allowPrivate);
    return why && `${host} is ${why}`;
  }
  if (resolve === undefined) return null;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (e) {
    return `${host} cannot be resolved (${(e as { code?: string }).code ?? (e as Error).message})`;
  }
  for (const a of addresses) {
    const why = addressRefused(a, allowPrivate);
    if (why) return `${host} resolves to ${a}, ${why}`;
  }
  return addresses.length ? null : `${host} resolves to no address`;
}
