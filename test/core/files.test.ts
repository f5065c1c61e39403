import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HOSTILE_PATTERNS, alternatives } from "../helpers/patterns.ts";
import { CHECK_BUDGET, globProblem, MAX_EXPANSIONS, OverlapChecker, patternsOverlap, REQUEST_BUDGET } from "../../src/core/files.ts";

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
    ["src/**/**/a.ts", "src/a.ts"],
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
  for (const [a, b] of yes)
    it(`${a} overlaps ${b}`, () => {
      assert.equal(patternsOverlap(a, b), "yes");
      assert.equal(patternsOverlap(b, a), "yes");
    });
  for (const [a, b] of no)
    it(`${a} does not overlap ${b}`, () => {
      assert.equal(patternsOverlap(a, b), "no");
      assert.equal(patternsOverlap(b, a), "no");
    });
  // A backtracking matcher takes minutes on this; the timeout turns a regression into a failure.
  it("does not stall on patterns that make a regex backtrack", { timeout: 10_000 }, () => {
    assert.equal(patternsOverlap("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(1000)), "no");
  });
  it("does not throw on odd classes, and globProblem names bad patterns", () => {
    assert.equal(patternsOverlap("src/[!a]*.ts", "src/b.ts"), "yes");
    assert.equal(patternsOverlap("src/[!a]*.ts", "src/a.ts"), "no");
    assert.equal(globProblem("src/[z-a]*.ts"), "has an empty range z-a");
    // Paths are the repository's (twenty-fifth MCP trial: /etc/shadow and ../../etc/passwd were accepted).
    assert.match(globProblem("/etc/shadow") ?? "", /is absolute/);
    for (const p of ["../../etc/passwd", "src/../../x", ".."]) assert.match(globProblem(p) ?? "", /has a \.\. segment/, p);
    for (const p of ["src/**", "a..b/c", ".github/*.yml"]) assert.equal(globProblem(p), null, p);
    assert.equal(globProblem("src/{a,b"), "has an unclosed {");
    assert.equal(globProblem("src/**/*.{ts,tsx}"), null);
  });
  it("compares lists", () => {
    const c = new OverlapChecker();
    assert.equal(c.files(["a.ts", "docs/**"], ["docs/x.md"]), "yes");
    assert.equal(c.files([], ["docs/x.md"]), "no");
  });
});

describe("file overlap under hostile patterns (issue 13)", () => {
  it("an exploding brace pattern is 'unknown' within the bound, not minutes and gigabytes", { timeout: 10_000 }, () => {
    const c = new OverlapChecker();
    assert.equal(c.files([HOSTILE_PATTERNS.braces], ["src/zz"]), "unknown");
    assert.ok(c.spent <= CHECK_BUDGET, `spent ${c.spent}`);
  });
  it("deep ** patterns stop at the check budget, and the request budget caps many checks", { timeout: 10_000 }, () => {
    const c = new OverlapChecker();
    assert.equal(c.files([HOSTILE_PATTERNS.stars], ["a/b"]), "unknown", "beyond the segment limit: unknown without comparing");
    // Within the limits, but twenty of them against twenty: more work than one comparison may take.
    const many = Array.from({ length: 20 }, (_, i) => "**/a/".repeat(15) + i);
    const other = Array.from({ length: 20 }, (_, i) => "**/b/".repeat(15) + i);
    for (let i = 0; i < 50; i++) assert.equal(c.files(many, other), "unknown");
    assert.ok(c.spent <= REQUEST_BUDGET, `spent ${c.spent}`);
    // Once the request budget is gone, every further answer is unknown at no cost.
    assert.equal(c.files(["x"], ["x"]), "unknown");
  });
  it("globProblem refuses patterns beyond the limits when a WO is saved", () => {
    assert.match(globProblem(HOSTILE_PATTERNS.braces) ?? "", /expands to \d+ alternatives \(at most 64\)/);
    assert.match(globProblem(HOSTILE_PATTERNS.stars) ?? "", /more than 32 path segments/);
    assert.equal(globProblem(`src/${alternatives(8)}/${alternatives(8)}.ts`), null);
    assert.match(globProblem(`src/${alternatives(8)}/${alternatives(9)}.ts`) ?? "", new RegExp(`at most ${MAX_EXPANSIONS}`));
  });
  it("fuzz: random brace and ** patterns up to 1000 characters never exceed the budgets", { timeout: 60_000 }, () => {
    const seg = fc.oneof(
      fc.constant("**"),
      fc.constant("*"),
      fc.stringMatching(/^[a-c*?]{1,6}$/),
      fc.array(fc.stringMatching(/^[a-c*]{0,3}$/), { minLength: 1, maxLength: 40 }).map((alts) => `x{${alts.join(",")}}y`),
    );
    const pattern = fc.array(seg, { minLength: 1, maxLength: 300 }).map((s) => s.join("/").slice(0, 1000));
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 8 }), fc.array(pattern, { minLength: 1, maxLength: 8 }), (a, b) => {
        const c = new OverlapChecker();
        c.files(a, b);
        c.files(b, a);
        return c.spent <= 2 * CHECK_BUDGET;
      }),
      { numRuns: 200 },
    );
  });
});
