/**
 * Do two file patterns (paths or globs) possibly touch the same file?
 * Exact glob intersection is expensive and rarely needed; this answers
 * segment by segment and errs towards "overlap", because a false warning
 * costs an agent a second look while a missed one costs a merge conflict.
 * A pattern without wildcards also covers everything below it (a directory).
 */
export function patternsOverlap(a: string, b: string): boolean {
  return segmentsOverlap(split(a), split(b));
}

export function filesOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => patternsOverlap(x, y)));
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
  if (!wx) return toRegExp(y).test(x);
  if (!wy) return toRegExp(x).test(y);
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

function toRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "{") {
      const end = glob.indexOf("}", i);
      if (end < 0) { re += "\\{"; continue; }
      re += `(?:${glob.slice(i + 1, end).split(",").map(escape).join("|")})`;
      i = end;
    } else if (c === "[") {
      const end = glob.indexOf("]", i);
      if (end < 0) { re += "\\["; continue; }
      re += `[${glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
      i = end;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
