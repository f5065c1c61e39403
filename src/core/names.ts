/** Near misses among names (a mistyped project must not silently become a new one). */

/** Levenshtein distance, giving up (returning max + 1) once it must exceed `max`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length] as number;
}

/** How many edits still count as a typo: none for names of 3 characters or fewer (every short name is close to every other), 1 up to 5, then 2. */
const typoDistance = (name: string) => (name.length <= 3 ? 0 : name.length <= 5 ? 1 : 2);

/** Names that differ only in their digits are a numbered series (`api-1`, `api-2`), not a typo. */
const numbered = (a: string, b: string) => a.replace(/\d+/g, "#") === b.replace(/\d+/g, "#");

/** The names a typo of `name` could have meant (not itself), closest first. */
export function nearMisses(name: string, names: readonly string[]): string[] {
  const max = typoDistance(name);
  if (max === 0) return [];
  return names
    .filter((n) => n !== name && !numbered(n, name))
    .map((n) => ({ n, d: editDistance(name, n, max) }))
    .filter((x) => x.d <= max)
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
    .map((x) => x.n);
}
