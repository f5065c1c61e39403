/** A branch per WO (issue 26): stable names with characters git always accepts. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { BRANCH_PREFIX, branchName, slug } from "../../src/core/branch.ts";

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
