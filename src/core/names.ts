/** Near misses among names (a mistyped project must not silently become a new one). */

/**
 * Edit distance where swapping two neighbours is one edit (optimal string
 * alignment: `shpo` is one typo from `shop`), giving up (returning max + 1)
 * once it must exceed `max`.
 */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    before = prev;
    prev = row;
  }
  return prev[b.length] as number;
}

/** How many edits still count as a typo: 1 up to 5 characters, then 2 (names of 3 or fewer: see shortMiss). */
const typoDistance = (name: string) => (name.length <= 5 ? 1 : 2);

/**
 * Every short name is one edit from many others (`api`, `app`), so for names
 * of 3 characters or fewer only a swap of neighbours, or a fourth character
 * added or dropped (`sho`, `prj` for `shop`, `proj`), counts as a typo.
 */
function shortMiss(a: string, b: string): boolean {
  if (a.length === b.length) return editDistance(a, b, 1) === 1 && [...a].sort().join("") === [...b].sort().join("");
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  // Any one of its four letters dropped (twenty-first MCP trial: `prj` and `poj` for `proj` started new projects).
  return long.length === 4 && [...long].some((_, i) => long.slice(0, i) + long.slice(i + 1) === short);
}

/** The same letters in another order after the same first one: a letter typed in the wrong place (`dmoe` for `demo`, sixteenth trials). */
const jumbled = (a: string, b: string) => a.length > 3 && a[0] === b[0] && [...a].sort().join("") === [...b].sort().join("");

/** Names that differ only in their digits are a numbered series (`api-1`, `api-2`), not a typo. */
const numbered = (a: string, b: string) => a.replace(/\d+/g, "#") === b.replace(/\d+/g, "#");

/** Names that differ only in separators are one name typed two ways (`p1-` for `p1`: twenty-fourth MCP trial), however short. */
const bare = (n: string) => n.replace(/[-_.]+/g, "");

/** The names a typo of `name` could have meant (not itself), closest first. */
export function nearMisses(name: string, names: readonly string[]): string[] {
  const max = typoDistance(name);
  const typo = (n: string, d: number) => (d <= max && (Math.min(name.length, n.length) > 3 || shortMiss(name, n))) || (d === 2 && jumbled(name, n));
  return names
    .filter((n) => n !== name)
    .map((n) => ({ n, same: bare(n) === bare(name), d: editDistance(name, n, max) }))
    .filter((x) => x.same || (!numbered(x.n, name) && typo(x.n, x.d)))
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
    .map((x) => x.n);
}
