import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editDistance, nearMisses } from "../../src/core/names.ts";

describe("near misses among project names", () => {
  it("measures edit distance, giving up past the bound", () => {
    assert.equal(editDistance("shop", "shopp"), 1);
    assert.equal(editDistance("shop", "shpo"), 2);
    assert.equal(editDistance("kitten", "sitting", 3), 3);
    assert.equal(editDistance("a", "abcdef"), 3, "more than max: max + 1");
  });

  it("suggests typos, closest first, but not short names or numbered series", () => {
    assert.deepEqual(nearMisses("shopp", ["shop", "shops", "other"]), ["shop", "shops"]);
    assert.deepEqual(nearMisses("chainwach", ["chainwatch", "shop"]), ["chainwatch"]);
    assert.deepEqual(nearMisses("ab", ["abc", "a"]), [], "every short name is close to every other");
    assert.deepEqual(nearMisses("mem1", ["mem0", "mem2"]), [], "a numbered series");
    assert.deepEqual(nearMisses("api-12", ["api-1"]), []);
    assert.deepEqual(nearMisses("shop", ["shop"]), []);
  });
});
