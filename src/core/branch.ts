/**
 * A branch per WO (issue 26): a stable name with safe characters, chosen when
 * the WO is created, e.g. `wo/53-fix-tokenizer-crash`. The project's prefix
 * (default `wo/`) comes first; the title's words (lower-case letters and
 * digits, at most 40 characters) make it readable. Git refuses many names
 * (`..`, `@{`, a trailing `.lock`, control characters); this alphabet has
 * none of them.
 */
export const DEFAULT_BRANCH_PREFIX = "wo/";
const SLUG_MAX = 40;

/** A prefix as a project may set it: words of [a-z0-9._-] joined by `/` (none ending in `.lock`), ending in `/` or `-` (or empty: no prefix). */
export const BRANCH_PREFIX = /^$|^(?!.*\.lock\/)(?:[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*\/)*[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*[/-]$/;

export function slug(title: string): string {
  const words = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents come apart from their letters and go
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(" ")
    .filter(Boolean);
  let out = "";
  for (const w of words) {
    const next = out ? `${out}-${w}` : w;
    if (next.length > SLUG_MAX) break;
    out = next;
  }
  return out || words[0]?.slice(0, SLUG_MAX) || "";
}

/** The branch of WO `id` titled `title` in a project whose prefix is `prefix`. */
export function branchName(prefix: string, id: number, title: string): string {
  const s = slug(title);
  return `${prefix}${id}${s ? `-${s}` : ""}`;
}

/** The branch of a WO created before branches were named: its id under the default prefix. */
export const legacyBranch = (id: number) => `${DEFAULT_BRANCH_PREFIX}${id}`;
