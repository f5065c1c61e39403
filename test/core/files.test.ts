import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { filesOverlap, globProblem, patternsOverlap } from "../../src/core/files.ts";

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
  // A backtracking matcher takes minutes on this; the timeout turns a regression into a failure.
  it("does not stall on patterns that make a regex backtrack", { timeout: 10_000 }, () => {
    assert.equal(patternsOverlap("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(1000)), false);
  });
  it("does not throw on odd classes, and globProblem names bad patterns", () => {
    assert.equal(patternsOverlap("src/[!a]*.ts", "src/b.ts"), true);
    assert.equal(patternsOverlap("src/[!a]*.ts", "src/a.ts"), false);
    assert.equal(globProblem("src/[z-a]*.ts"), "has an empty range z-a");
    assert.equal(globProblem("src/{a,b"), "has an unclosed {");
    assert.equal(globProblem("src/**/*.{ts,tsx}"), null);
  });
  it("compares lists", () => {
    assert.equal(filesOverlap(["a.ts", "docs/**"], ["docs/x.md"]), true);
    assert.equal(filesOverlap([], ["docs/x.md"]), false);
  });
});
