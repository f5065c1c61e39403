import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { filesOverlap, patternsOverlap } from "../../src/core/files.ts";

describe("file overlap", () => {
  const yes: [string, string][] = [
    ["src/a.ts", "src/a.ts"],
    ["src", "src/a.ts"],
    ["src/", "src/deep/b.ts"],
    ["./src/a.ts", "src/a.ts"],
    ["src/**", "src/x/y/z.ts"],
    ["src/*.ts", "src/a.ts"],
    ["**/*.md", "docs/guide/intro.md"],
    ["src/{a,b}.ts", "src/b.ts"],
    ["src/a?.ts", "src/ab.ts"],
    ["src/*.ts", "src/a*.ts"],
    ["src/**/test/*.ts", "src/x/**"],
  ];
  const no: [string, string][] = [
    ["src/a.ts", "src/b.ts"],
    ["src/*.ts", "src/a.js"],
    ["src/*.ts", "lib/a.ts"],
    ["docs/**", "src/a.ts"],
    ["src/*.ts", "src/deep/a.ts"],
    ["src/{a,b}.ts", "src/c.ts"],
    ["src/a*.ts", "src/b*.ts"],
  ];
  for (const [a, b] of yes) it(`${a} overlaps ${b}`, () => {
    assert.equal(patternsOverlap(a, b), true);
    assert.equal(patternsOverlap(b, a), true);
  });
  for (const [a, b] of no) it(`${a} does not overlap ${b}`, () => {
    assert.equal(patternsOverlap(a, b), false);
    assert.equal(patternsOverlap(b, a), false);
  });
  it("compares lists", () => {
    assert.equal(filesOverlap(["a.ts", "docs/**"], ["docs/x.md"]), true);
    assert.equal(filesOverlap([], ["docs/x.md"]), false);
  });
});
