/**
 * Who is asking: the peer address, or, when the peer is a proxy the operator
 * trusts, the address it reports in X-Forwarded-For. Behind a load balancer
 * every request comes from the balancer, so without this one abusive client
 * would spend the failed-authentication allowance of everyone.
 */
import { BlockList, isIP } from "node:net";
import { LedgerError } from "../../core/errors.js";

export type ProxyTrust = (address: string) => boolean;

/** Addresses and CIDR ranges (`10.0.0.0/8`, `::1`) whose X-Forwarded-For is believed. */
export function trustProxies(entries: readonly string[]): ProxyTrust {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const raw of entries) {
    const [addr = "", bits] = raw.trim().split("/");
    const family = isIP(addr);
    const prefix = bits === undefined ? undefined : Number(bits);
    if (family === 0 || (prefix !== undefined && (!/^\d+$/.test(bits ?? "") || prefix > (family === 4 ? 32 : 128)))) {
      throw new LedgerError("VALIDATION", `trust-proxy: ${JSON.stringify(raw)} is not an IP address or CIDR range`, {
        hint: "e.g. --trust-proxy 10.0.0.0/8,127.0.0.1",
        details: { issues: [{ field: "trust-proxy", message: "not an address" }] },
      });
    }
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, prefix, type);
  }
  return (address) => {
    const a = plain(address);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? "ipv4" : "ipv6");
  };
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
function plain(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}

/**
 * The client of a request: walking X-Forwarded-For from the right (the entry
 * the nearest proxy appended), the first address that is not a trusted proxy.
 * Entries a client wrote itself sit further left and are never reached while
 * a trusted proxy appends the real peer.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: ProxyTrust): string {
  if (peer === undefined) return "unknown";
  if (forwardedFor === undefined || !trusted(peer)) return plain(peer);
  const hops = forwardedFor
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (isIP(plain(hop)) === 0) return plain(peer); // a garbled header: fall back to the proxy itself
    if (!trusted(hop)) return plain(hop);
  }
  return plain(hops[0] ?? peer);
}
