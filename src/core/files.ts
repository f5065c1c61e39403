/**
 * Do two file patterns (paths or globs) possibly touch the same file?
 * Exact glob intersection is expensive and rarely needed; this answers
 * segment by segment and errs towards "overlap", because a false warning
 * costs an agent a second look while a missed one costs a merge conflict.
 * A pattern without wildcards also covers everything below it (a directory).
 *
 * Patterns come from any agent and are compared inside write transactions,
 * so every comparison runs on a budget of work units (one unit is about one
 * step of a dynamic program; no regular expression, which could backtrack).
 * When the budget runs out, or a pattern is beyond the limits below, the
 * answer is "unknown": protection treats it as an overlap, and the caller
 * says why. The limits are also checked when a WO is saved (globProblem), so
 * only patterns stored before them, or many patterns together, reach them.
 */
export type Overlap = "yes" | "no" | "unknown";

/** Work one file-list comparison (one WO against one other) may use. */
export const CHECK_BUDGET = 100_000;
/** Work one operation (find-unclaimed, claim) may use across all its comparisons. */
export const REQUEST_BUDGET = 1_000_000;
export const MAX_SEGMENTS = 32;
export const MAX_EXPANSIONS = 64;
export const MAX_BRACE_GROUPS = 4;
/** Characters one pattern may compile to (its brace alternatives × its length), checked when a WO is saved. */
export const MAX_COMPILED = 4096;
/** Characters one WO's file list may hold in all: every request that compares files reads whole lists. */
export const MAX_FILE_LIST = 32 * 1024;
/** Compiled characters one checker keeps for reuse; beyond it, a pattern is compiled (and charged) each time. */
export const CACHE_LIMIT = 256 * 1024;

export const UNKNOWN_REASON =
  `the file patterns are too complex to compare within the work bound (at most ${MAX_SEGMENTS} path segments and ${MAX_EXPANSIONS} brace alternatives ` +
  `per pattern, ${CHECK_BUDGET} steps per comparison): treated as overlapping`;

class OutOfBudget extends Error {}

/** A path segment: `**`, literal text, or a glob as its brace expansions (strings: two bytes a character, nothing else kept). */
type Segment = { kind: "any" } | { kind: "lit"; text: string } | { kind: "glob"; raw: string; alternatives: string[] };
type Compiled = Segment[] | null; // null: beyond the limits

/**
 * Compares file lists within a budget. One checker serves one operation: it
 * remembers compiled patterns and spends from the operation's budget.
 */
export class OverlapChecker {
  private readonly compiled = new Map<string, Compiled>();
  private cached = 0;
  private left: number;
  /** Units spent so far (tests read it to prove the bound). */
  spent = 0;

  constructor(
    requestBudget = REQUEST_BUDGET,
    private readonly checkBudget = CHECK_BUDGET,
  ) {
    this.left = requestBudget;
  }

  /** Whether any pattern of `a` may touch a file of `b`. */
  files(a: readonly string[], b: readonly string[]): Overlap {
    if (a.length === 0 || b.length === 0) return "no";
    const allowed = Math.min(this.checkBudget, this.left);
    const run = { left: allowed };
    try {
      let unknown = false;
      for (const x of a) {
        for (const y of b) {
          const cx = this.compile(x, run);
          const cy = this.compile(y, run);
          if (cx === null || cy === null) unknown = true;
          else if (segmentsOverlap(cx, cy, run)) return "yes";
        }
      }
      return unknown ? "unknown" : "no";
    } catch (e) {
      if (e instanceof OutOfBudget) return "unknown";
      throw e;
    } finally {
      const used = allowed - Math.max(0, run.left);
      this.left -= used;
      this.spent += used;
    }
  }

  /** Charged by what it compiles to, before compiling: a short pattern with many braces costs its expansions. */
  private compile(p: string, run: Budget): Compiled {
    const hit = this.compiled.get(p);
    if (hit !== undefined) return hit;
    const size = compiledSize(p);
    spend(run, p.length + size);
    const c = compile(p);
    if (this.cached + size <= CACHE_LIMIT) {
      this.compiled.set(p, c);
      this.cached += size;
    }
    return c;
  }
}

interface Budget {
  left: number;
}

function spend(run: Budget, units: number): void {
  run.left -= units;
  if (run.left < 0) throw new OutOfBudget();
}

/** One pair of patterns, with a fresh budget (tests and one-off questions). */
export function patternsOverlap(a: string, b: string): Overlap {
  return new OverlapChecker().files([a], [b]);
}

/** Why a file pattern is unusable, or null when it is fine (checked when a WO is saved). */
/** Why a WO's whole file list is refused, or null. */
export function fileListProblem(files: readonly string[]): string | null {
  const total = files.reduce((n, f) => n + f.length, 0);
  if (total <= MAX_FILE_LIST) return null;
  return `holds ${total} characters in all (at most ${MAX_FILE_LIST}): name a directory or a glob instead of many files`;
}

export function globProblem(p: string): string | null {
  // Paths are the repository's, relative to its root: one outside it names nothing a WO can touch (twenty-fifth MCP trial).
  if (p.startsWith("/")) return "is absolute: give a path relative to the repository's root";
  if (p.split("/").includes("..")) return "has a .. segment: give the path from the repository's root without one";
  let groups = 0;
  let expansions = 1;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) return "has an unclosed [";
      const body = p.slice(i + 1, end).replace(/^!/, "");
      for (let j = 1; j < body.length - 1; j++) if (body[j] === "-" && (body[j - 1] ?? "") > (body[j + 1] ?? "")) return `has an empty range ${body.slice(j - 1, j + 2)}`;
      i = end;
    } else if (c === "{") {
      const end = p.indexOf("}", i);
      if (end < 0) return "has an unclosed {";
      if (p.slice(i + 1, end).includes("{")) return "nests braces";
      groups++;
      expansions *= p.slice(i + 1, end).split(",").length;
      i = end;
    }
  }
  if (groups > MAX_BRACE_GROUPS) return `has more than ${MAX_BRACE_GROUPS} brace groups`;
  if (expansions > MAX_EXPANSIONS) return `expands to ${expansions} alternatives (at most ${MAX_EXPANSIONS})`;
  if (segmentsOf(p).length > MAX_SEGMENTS) return `has more than ${MAX_SEGMENTS} path segments`;
  if (expansions * p.length > MAX_COMPILED)
    return `expands to ${expansions} alternatives of ${p.length} characters, ${expansions * p.length} in all (at most ${MAX_COMPILED}: use fewer braces or a shorter pattern)`;
  return null;
}

/** Characters `p` compiles to: each wildcard segment's length times its brace alternatives (or 0 past the limits, where nothing is expanded). */
function compiledSize(p: string): number {
  const raw = segmentsOf(p);
  if (raw.length > MAX_SEGMENTS) return 0;
  let size = 0;
  for (const s of raw) {
    if (s === "**" || !hasWildcard(s)) continue;
    let n = 1;
    for (let i = s.indexOf("{"); i >= 0 && n <= MAX_EXPANSIONS; i = s.indexOf("{", i + 1)) {
      const close = s.indexOf("}", i);
      if (close < 0) break;
      n *= s.slice(i + 1, close).split(",").length;
      i = close;
    }
    if (n > MAX_EXPANSIONS) return size;
    size += n * s.length;
  }
  return size;
}

function segmentsOf(p: string): string[] {
  return p
    .trim()
    .replace(/\\/g, "/")
    .replace(/^\.\//, "")
    .split("/")
    .filter((s) => s !== "" && s !== ".");
}

function compile(p: string): Compiled {
  const raw = segmentsOf(p);
  if (raw.length > MAX_SEGMENTS) return null;
  const out: Segment[] = [];
  for (const s of raw) {
    if (s === "**") {
      if (out.at(-1)?.kind !== "any") out.push({ kind: "any" }); // a/**/**/b is a/**/b
    } else if (!hasWildcard(s)) out.push({ kind: "lit", text: s });
    else {
      const expanded = expandBraces(s);
      if (expanded === null) return null;
      out.push({ kind: "glob", raw: s, alternatives: expanded });
    }
  }
  // A plain path names a file or a directory and everything under it.
  if (!out.some((s) => s.kind !== "lit")) out.push({ kind: "any" });
  return out;
}

function hasWildcard(s: string): boolean {
  return /[*?[{]/.test(s);
}

/** Whether two segment lists can match a common path; memoised over (i, j), one unit per cell. */
function segmentsOverlap(a: Segment[], b: Segment[], run: Budget): boolean {
  const width = b.length + 1;
  const memo = new Int8Array((a.length + 1) * width); // 0 unknown, 1 no, 2 yes
  const go = (i: number, j: number): boolean => {
    const k = i * width + j;
    if (memo[k] !== 0) return memo[k] === 2;
    spend(run, 1);
    const x = a[i];
    const y = b[j];
    let r: boolean;
    if (x === undefined && y === undefined) r = true;
    else if (x?.kind === "any") r = go(i + 1, j) || (y !== undefined && go(i, j + 1));
    else if (y?.kind === "any") r = go(i, j + 1) || (x !== undefined && go(i + 1, j));
    else if (x === undefined || y === undefined) r = false;
    else r = segmentOverlap(x, y, run) && go(i + 1, j + 1);
    memo[k] = r ? 2 : 1;
    return r;
  };
  return go(0, 0);
}

function segmentOverlap(x: Segment, y: Segment, run: Budget): boolean {
  if (x.kind === "lit" && y.kind === "lit") return x.text === y.text;
  if (x.kind === "glob" && y.kind === "lit") return matches(x, y.text, run);
  if (x.kind === "lit" && y.kind === "glob") return matches(y, x.text, run);
  if (x.kind !== "glob" || y.kind !== "glob") return true;
  if (x.raw === y.raw) return true;
  // Both wildcarded: compatible literal prefixes and suffixes is as far as we check.
  spend(run, x.raw.length + y.raw.length);
  const [px, sx] = literalEnds(x.raw);
  const [py, sy] = literalEnds(y.raw);
  return (px.startsWith(py) || py.startsWith(px)) && (sx.endsWith(sy) || sy.endsWith(sx));
}

function literalEnds(s: string): [string, string] {
  const first = s.search(/[*?[{]/);
  let last = -1;
  for (let i = s.length - 1; i >= 0; i--)
    if ("*?]}".includes(s[i] ?? "")) {
      last = i;
      break;
    }
  return [s.slice(0, first), s.slice(last + 1)];
}

/** Does one glob segment match one literal segment? O(tokens × text) per alternative. */
function matches(glob: Extract<Segment, { kind: "glob" }>, text: string, run: Budget): boolean {
  return glob.alternatives.some((alt) => {
    spend(run, (alt.length + 1) * (text.length + 1));
    return matchGlob(alt, text);
  });
}

/** The brace alternatives of one segment, or null when there are more than MAX_EXPANSIONS. */
function expandBraces(glob: string): string[] | null {
  let out = [""];
  let i = 0;
  while (i < glob.length) {
    const open = glob.indexOf("{", i);
    const close = open < 0 ? -1 : glob.indexOf("}", open);
    if (open < 0 || close < 0) {
      out = out.map((o) => o + glob.slice(i));
      break;
    }
    const head = glob.slice(i, open);
    const alts = glob.slice(open + 1, close).split(",");
    if (out.length * alts.length > MAX_EXPANSIONS) return null;
    out = out.flatMap((o) => alts.map((a) => o + head + a));
    i = close + 1;
  }
  return out;
}

/** Does a brace-free glob match `text`? One pass over the glob, one row of the table per step: no backtracking. */
function matchGlob(glob: string, text: string): boolean {
  // ok[j]: the glob so far can match text[0..j).
  let ok = new Uint8Array(text.length + 1);
  let next = new Uint8Array(text.length + 1);
  ok[0] = 1;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      let any = 0;
      for (let j = 0; j <= text.length; j++) next[j] = any |= ok[j] as number;
    } else {
      let hit: (ch: string) => boolean = (ch) => ch === c;
      const end = c === "[" ? glob.indexOf("]", i + 2) : -1;
      if (c === "?") hit = () => true;
      else if (end > 0) {
        hit = charClass(glob.slice(i + 1, end));
        i = end;
      }
      next[0] = 0;
      for (let j = 1; j <= text.length; j++) next[j] = ok[j - 1] && hit(text[j - 1] as string) ? 1 : 0;
    }
    [ok, next] = [next, ok];
  }
  return ok[text.length] === 1;
}

/** A `[...]` class body (`!` or `^` negates, `a-z` ranges) as a test of one character. */
function charClass(body: string): (ch: string) => boolean {
  const negate = body.startsWith("!") || body.startsWith("^");
  if (negate) body = body.slice(1);
  const ranges: [string, string][] = [];
  for (let j = 0; j < body.length; j++) {
    const lo = body[j] as string;
    if (body[j + 1] === "-" && j + 2 < body.length) {
      ranges.push([lo, body[j + 2] as string]);
      j += 2;
    } else ranges.push([lo, lo]);
  }
  return (ch) => ranges.some(([lo, hi]) => ch >= lo && ch <= hi) !== negate;
}

/** The paths a WO's `files` patterns cannot touch (none when it lists none: its scope is not stated), at most `limit` of them. */
export function outsideFiles(paths: readonly string[], patterns: readonly string[], limit = 50): string[] {
  if (patterns.length === 0) return [];
  const checker = new OverlapChecker();
  // A path with a glob's characters in its name is its own literal here: escaping is not part of the pattern language, so it is judged as written.
  return paths.filter((p) => checker.files([p], patterns) === "no").slice(0, limit);
}
