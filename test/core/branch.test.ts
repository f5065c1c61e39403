/** A branch per WO (issue 26): stable names with characters git always accepts. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { BRANCH_PREFIX, branchName, slug } from "../../src/core/branch.ts";
import { commitLease, trailerLines } from "../../src/core/trailers.ts";

describe("branch names (issue 26)", () => {
  it("are the prefix, the id and the title's first words, lower-case, at most 40 characters of them", () => {
    assert.equal(branchName("wo/", 53, "Fix tokenizer crash on empty input"), "wo/53-fix-tokenizer-crash-on-empty-input");
    assert.equal(branchName("team/wo-", 7, "Ünïcödé: `rm -rf /`; ..@{x}.lock"), "team/wo-7-unicode-rm-rf-x-lock");
    assert.equal(branchName("", 8, "!!!"), "8");
    assert.equal(slug("a".repeat(60)), "a".repeat(40));
    assert.equal(slug("one two three four five six seven eight nine ten"), "one-two-three-four-five-six-seven-eight");
  });

  it("are names git accepts, whatever the title", () => {
    for (const title of ["x", "..", "a..b", "@{u}", "foo.lock", "tab\there", "éèê", "-leading", "trailing/", "x".repeat(500)]) {
      const name = branchName("wo/", 1, title);
      assert.doesNotThrow(() => execFileSync("git", ["check-ref-format", "--branch", name], { stdio: "ignore" }), name);
    }
  });

  it("take only prefixes that keep them valid", () => {
    for (const ok of ["", "wo/", "team/wo-", "a.b/c_d/", "x-"]) assert.match(ok, BRANCH_PREFIX, ok);
    for (const bad of ["wo", "/wo/", "wo//", "a..b/", ".x/", "Wo/", "w o/", "wo.lock/x/"]) assert.doesNotMatch(bad, BRANCH_PREFIX, bad);
  });
});

describe("commit trailers (issue 26)", () => {
  it("name the lease a commit was made under, and anything else is none or malformed", () => {
    assert.deepEqual(trailerLines({ project: "ancc", id: 53, token: 4 }), ["Work-Order: ancc#53", "Lease-Token: 4"]);
    assert.deepEqual(commitLease("Work-Order: ancc#53\nLease-Token: 4\n"), { project: "ancc", id: 53, token: 4 });
    assert.deepEqual(commitLease("work-order:  ancc#53 \nlease-token: 4"), { project: "ancc", id: 53, token: 4 }, "keys as git compares them");
    assert.equal(commitLease(""), null);
    assert.equal(commitLease("Signed-off-by: x"), null);
    for (const bad of [
      "Work-Order: ancc#53",
      "Lease-Token: 4",
      "Work-Order: ancc\nLease-Token: 4",
      "Work-Order: Bad#1\nLease-Token: 1",
      "Work-Order: a#1\nLease-Token: x",
      "Work-Order: a#1\nWork-Order: a#2\nLease-Token: 1",
    ])
      assert.equal(commitLease(bad), "malformed", bad);
  });
});
