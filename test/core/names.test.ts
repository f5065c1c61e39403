import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editDistance, nearMisses } from "../../src/core/names.ts";

describe("near misses among project names", () => {
  it("measures edit distance, giving up past the bound", () => {
    assert.equal(editDistance("shop", "shopp"), 1);
    assert.equal(editDistance("shop", "shpo"), 1, "a swap of neighbours is one typo");
    assert.equal(editDistance("demo", "dmeo"), 1);
    assert.equal(editDistance("kitten", "sitting", 3), 3);
    assert.equal(editDistance("a", "abcdef"), 3, "more than max: max + 1");
  });

  it("suggests typos, closest first, but not short names or numbered series", () => {
    assert.deepEqual(nearMisses("shopp", ["shop", "shops", "other"]), ["shop", "shops"]);
    assert.deepEqual(nearMisses("chainwach", ["chainwatch", "shop"]), ["chainwatch"]);
    assert.deepEqual(nearMisses("ab", ["abc", "a"]), [], "every short name is close to every other");
    assert.deepEqual(nearMisses("api", ["app", "apx"]), [], "nor is a three-letter name a typo of another by one letter");
    // What the trials typed (issue 23): swapped letters, and a short name missing its last letter.
    assert.deepEqual(nearMisses("dmeo", ["demo"]), ["demo"]);
    assert.deepEqual(nearMisses("shpo", ["shop"]), ["shop"]);
    assert.deepEqual(nearMisses("sho", ["shop", "ship"]), ["shop"]);
    assert.deepEqual([nearMisses("prj", ["proj"]), nearMisses("poj", ["proj"])], [["proj"], ["proj"]], "or any other of its letters (twenty-first MCP trial)");
    assert.deepEqual(nearMisses("hspo", ["shop"]), [], "two swaps are not one typo");
    assert.deepEqual(nearMisses("dmoe", ["demo"]), ["demo"], "but a letter typed two places late is (sixteenth trials)");
    assert.deepEqual(nearMisses("meat", ["team"]), [], "an anagram is another word");
    assert.deepEqual(nearMisses("mem1", ["mem0", "mem2"]), [], "a numbered series");
    assert.deepEqual(nearMisses("api-12", ["api-1"]), []);
    assert.deepEqual(nearMisses("shop", ["shop"]), []);
    assert.deepEqual(nearMisses("p1-", ["p1", "p2"]), ["p1"], "the same name with a separator more, however short (twenty-fourth MCP trial)");
    assert.deepEqual(nearMisses("my_proj", ["my-proj", "myproj"]), ["my-proj", "myproj"]);
  });
});
