import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientAddress, trustProxies } from "../../src/doors/http/client-address.ts";

describe("client address behind proxies", () => {
  const trusted = trustProxies(["10.0.0.0/8", "::1"]);
  it("believes X-Forwarded-For only from a trusted peer, walking from the right", () => {
    assert.equal(clientAddress("203.0.113.5", "1.2.3.4", trusted), "203.0.113.5");
    assert.equal(clientAddress("10.1.2.3", "1.2.3.4", trusted), "1.2.3.4");
    assert.equal(clientAddress("::ffff:10.1.2.3", "6.6.6.6, 1.2.3.4, 10.9.9.9", trusted), "1.2.3.4");
    assert.equal(clientAddress("::1", undefined, trusted), "::1");
    assert.equal(clientAddress("10.1.2.3", "garbage", trusted), "10.1.2.3");
    assert.equal(clientAddress(undefined, "1.2.3.4", trusted), "unknown");
  });
  it("refuses entries that are not addresses or ranges", () => {
    assert.throws(() => trustProxies(["lb.internal"]), /not an IP address or CIDR range/);
    assert.throws(() => trustProxies(["10.0.0.0/33"]), /not an IP address or CIDR range/);
  });
});
