/**
 * Do two file patterns (paths or globs) possibly touch the same file?
 * Exact glob intersection is expensive and rarely needed; this answers
 * segment by segment and errs towards "overlap", because a false warning
 * costs an agent a second look while a missed one costs a merge conflict.
 * A pattern without wildcards also covers everything below it (a directory).
 *
 * Matching is a dynamic program, never a regular expression: patterns come
 * from agents, and a backtracking regex on `*a*a*a…` could stall the ledger
 * inside a write transaction.
 */
export function patternsOverlap(a: string, b: string): boolean {
  return segmentsOverlap(split(a), split(b));
}

export function filesOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => patternsOverlap(x, y)));
}

/** Why a file pattern is unusable, or null when it is fine (checked when a WO is saved). */
export function globProblem(p: string): string | null {
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
      i = end;
    }
  }
  if ((p.match(/\{/g) ?? []).length > 4) return "has more than 4 brace groups";
  return null;
}

function split(p: string): string[] {
  const segs = p.trim().replace(/\\/g, "/").replace(/^\.\//, "").split("/").filter((s) => s !== "" && s !== ".");
  // A plain path names a file or a directory and everything under it.
  if (!segs.some(hasWildcard)) segs.push("**");
  return segs;
}

function hasWildcard(s: string): boolean {
  return /[*?[{]/.test(s);
}

function segmentsOverlap(a: string[], b: string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const k = `${i},${j}`;
    const hit = memo.get(k);
    if (hit !== undefined) return hit;
    let r: boolean;
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) r = true;
    else if (x === "**") r = go(i + 1, j) || (y !== undefined && go(i, j + 1));
    else if (y === "**") r = go(i, j + 1) || (x !== undefined && go(i + 1, j));
    else if (x === undefined || y === undefined) r = false;
    else r = segmentOverlap(x, y) && go(i + 1, j + 1);
    memo.set(k, r);
    return r;
  };
  return go(0, 0);
}

function segmentOverlap(x: string, y: string): boolean {
  if (x === y) return true;
  const wx = hasWildcard(x);
  const wy = hasWildcard(y);
  if (!wx && !wy) return false;
  if (!wx) return matches(y, x);
  if (!wy) return matches(x, y);
  // Both wildcarded: compatible literal prefixes and suffixes is as far as we check.
  const [px, sx] = literalEnds(x);
  const [py, sy] = literalEnds(y);
  return (px.startsWith(py) || py.startsWith(px)) && (sx.endsWith(sy) || sy.endsWith(sx));
}

function literalEnds(s: string): [string, string] {
  const first = s.search(/[*?[{]/);
  let last = -1;
  for (let i = s.length - 1; i >= 0; i--) if ("*?]}".includes(s[i] ?? "")) { last = i; break; }
  return [s.slice(0, first), s.slice(last + 1)];
}

type Token = { kind: "star" } | { kind: "one" } | { kind: "set"; negate: boolean; test: (c: string) => boolean } | { kind: "lit"; c: string };

/** Does one glob segment match one literal segment? Braces are expanded, the rest is O(glob × text). */
function matches(glob: string, text: string): boolean {
  return expandBraces(glob).some((g) => matchTokens(tokens(g), text));
}

function expandBraces(glob: string): string[] {
  const open = glob.indexOf("{");
  const close = open < 0 ? -1 : glob.indexOf("}", open);
  if (open < 0 || close < 0) return [glob];
  const head = glob.slice(0, open);
  const rest = expandBraces(glob.slice(close + 1));
  return glob
    .slice(open + 1, close)
    .split(",")
    .flatMap((alt) => rest.map((r) => head + alt + r));
}

function tokens(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (out.at(-1)?.kind !== "star") out.push({ kind: "star" });
    } else if (c === "?") out.push({ kind: "one" });
    else if (c === "[" && glob.indexOf("]", i + 2) > 0) {
      const end = glob.indexOf("]", i + 2);
      let body = glob.slice(i + 1, end);
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
      out.push({ kind: "set", negate, test: (ch) => ranges.some(([lo, hi]) => ch >= lo && ch <= hi) });
      i = end;
    } else out.push({ kind: "lit", c });
  }
  return out;
}

function matchTokens(toks: Token[], text: string): boolean {
  // ok[j]: the tokens so far can match text[0..j).
  let ok = new Array<boolean>(text.length + 1).fill(false);
  ok[0] = true;
  for (const t of toks) {
    const next = new Array<boolean>(text.length + 1).fill(false);
    if (t.kind === "star") {
      let any = false;
      for (let j = 0; j <= text.length; j++) {
        any ||= ok[j] === true;
        next[j] = any;
      }
    } else {
      for (let j = 1; j <= text.length; j++) {
        if (!ok[j - 1]) continue;
        const ch = text[j - 1] as string;
        next[j] = t.kind === "one" ? true : t.kind === "lit" ? t.c === ch : t.test(ch) !== t.negate;
      }
    }
    ok = next;
  }
  return ok[text.length] === true;
}
