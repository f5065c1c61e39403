import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LedgerError } from "../../src/core/errors.ts";
import { inputs, ttl, woId } from "../../src/core/schemas.ts";
import { parse } from "../../src/core/validate.ts";

describe("shared input schemas", () => {
  it("accepts 53, '53', 'WO-53' and 'wo-53' as ids", () => {
    for (const v of [53, "53", "WO-53", "wo-53"]) assert.equal(woId.parse(v), 53);
  });
  it("rejects malformed ids", () => {
    for (const v of [0, -1, 1.5, "abc", "WO-", "53abc", "", 2 ** 31, "99999999999"]) assert.equal(woId.safeParse(v).success, false, String(v));
  });
  it("parses TTLs between 1s and 7d", () => {
    assert.equal(ttl.parse("90s"), 90_000);
    assert.equal(ttl.parse("30m"), 1_800_000);
    assert.equal(ttl.parse("2h"), 7_200_000);
    assert.equal(ttl.parse("7d"), 604_800_000);
    for (const v of ["0", "0s", "abc", "8d", "-5m", "", "500ms", 0, 5]) assert.equal(ttl.safeParse(v).success, false, String(v));
  });
  it("refuses a duration without a unit, offering both readings (the tools' own example is 90s)", () => {
    for (const [v, guess] of [
      ["30", "30s or 30m"],
      [30, "30s or 30m"],
      [" 5 ", "5s or 5m"],
      ["90", "90s or 90m"],
      [1800, "1800s or 1800m"],
    ] as const) {
      const r = ttl.safeParse(v);
      assert.equal(r.success, false, String(v));
      assert.match(r.error?.issues[0]?.message ?? "", new RegExp(`needs a unit: did you mean ${guess}\\?`), String(v));
    }
  });
  it("names the field in a validation error", () => {
    try {
      parse(inputs.create, { project: "p", agent: "a", items: [{ title: "ok" }, { title: "" }] });
      assert.fail("should throw");
    } catch (e) {
      assert.ok(e instanceof LedgerError);
      assert.equal(e.code, "VALIDATION");
      assert.match(e.message, /items\[1\]\.title/);
    }
  });
  it("turns a missing agent into NO_IDENTITY", () => {
    assert.throws(
      () => parse(inputs.claim, { project: "p", id: 1 }),
      (e: unknown) => e instanceof LedgerError && e.code === "NO_IDENTITY",
    );
  });
  it("rejects unknown fields in a work order (typos in batch files)", () => {
    assert.throws(() => parse(inputs.create, { project: "p", agent: "a", items: [{ title: "x", titel: "y" }] }), /titel/);
  });
  it("a repo is never a git option nor a transport that runs a command; URLs, paths and org/name are (thirty-fourth MCP trial)", () => {
    const create = (repo: string) => parse(inputs.create, { project: "p", agent: "a", items: [{ title: "x", repo }] });
    for (const bad of ["--upload-pack=touch /tmp/x", " -c core.sshCommand=x", "ext::sh -c touch% /tmp/x", "FD::3"])
      assert.throws(() => create(bad), /items\[0\]\.repo: must be a URL, a path or org\/name/, bad);
    for (const ok of ["", "org/name", "https://github.com/org/name.git", "git@github.com:org/name.git", "/srv/git/name", "../name"]) assert.doesNotThrow(() => create(ok), ok);
  });
  it("a checkpoint's message never holds a credential: it goes into the commit every later holder reads (thirty-sixth MCP trial)", () => {
    const checkpoint = (message: string) => parse(inputs.commitCheckpoint, { project: "p", agent: "a", id: 1, message });
    assert.throws(() => checkpoint(`deploy with ghp_${"A1b2".repeat(9)}`), /message: must not hold a credential/);
    assert.doesNotThrow(() => checkpoint("parser half done"));
  });
  it("rejects bad project names and control characters in titles", () => {
    assert.throws(() => parse(inputs.get, { project: "Bad Name", id: 1 }), /project/);
    assert.throws(() => parse(inputs.create, { project: "p", agent: "a", items: [{ title: "a\u0000b" }] }), /control/);
  });
});

describe("validation messages an agent can act on (issue 23)", () => {
  const issues = (schema: Parameters<typeof parse>[0], value: unknown) => {
    try {
      parse(schema, value);
    } catch (e) {
      return (e as LedgerError).details?.issues as { field: string; message: string }[];
    }
    throw new Error("accepted");
  };
  it("an unknown field is named, with the fields that are valid", () => {
    const [i] = issues(inputs.claim, { project: "p", agent: "a", id: 1, tll: "90s" });
    assert.equal(i?.field, "tll");
    assert.match(i?.message ?? "", /^unknown field; valid: project, id, next, ttl, /);
    assert.doesNotMatch(i?.message ?? "", /agent|role/, "fields the door fills are not offered");
  });
  it("a bad spend figure is one issue, not a second about the cache split", () => {
    assert.deepEqual(
      issues(inputs.spend, { project: "p", agent: "a", id: 1, tokens_in: -5 }).map((i) => i.field),
      ["tokens_in"],
    );
  });
});
