/**
 * What verify looks for in the directory a command runs in, before and after
 * the run: the `.git` of every repository nested in it, whose config and hooks
 * run in the next git command there, outside the sandbox (twenty-ninth MCP
 * trial: a clone in the checkout got an fsmonitor from another agent's
 * command), and folders that look like a home. Symbolic links are not followed.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HOME_MARKERS } from "../core/sandbox.js";

/** What a home directory holds and a work tree does not, by name (the markers that are one name). */
const HOME_NAMES = new Set(HOME_MARKERS.filter((m) => !m.includes("/")));

/** Folders a scan reads at most: a larger tree is scanned in part (`complete: false`). */
const MAX_FOLDERS = 50_000;

export interface TreeScan {
  /** Each nested repository's `.git` (a folder or a file), not the tree's own. */
  gits: string[];
  /** Folders below the top holding a home's files. */
  homes: string[];
  complete: boolean;
}

export function scanTree(dir: string, limit = MAX_FOLDERS): TreeScan {
  const gits: string[] = [];
  const homes = new Set<string>();
  const stack = [dir];
  for (let seen = 0; stack.length > 0; seen++) {
    if (seen >= limit) return { gits, homes: [...homes], complete: false };
    const folder = stack.pop() as string;
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      continue; // unreadable: nothing of it can run either
    }
    for (const e of entries) {
      if (e.name === ".git") {
        if (folder !== dir) gits.push(join(folder, e.name));
        continue; // a repository's insides are git's
      }
      if (folder !== dir && HOME_NAMES.has(e.name)) homes.add(folder);
      if (e.isDirectory()) stack.push(join(folder, e.name));
    }
  }
  return { gits, homes: [...homes], complete: true };
}
