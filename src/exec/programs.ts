/**
 * The programs workledger runs itself (git, bwrap, unshare), found once and
 * run by absolute path, never from a folder a work tree could hold. `npx`
 * puts the repository's node_modules/.bin first on PATH: a `git` another
 * agent's verification left there ran in every git call of the holder's MCP
 * server, outside any sandbox (thirty-first MCP trial), as a committed
 * `bwrap` there once ran the command unsandboxed (twenty-ninth trials).
 */
import { existsSync, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve, sep } from "node:path";

const found = new Map<string, string | undefined>();

/** The first `name` on PATH in an absolute folder outside the current directory and outside any node_modules; undefined when there is none. */
export function trustedProgram(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  const here = resolve(process.cwd());
  let at: string | undefined;
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    const dir = isAbsolute(d) ? resolve(d) : undefined;
    if (dir === undefined || dir === here || dir.startsWith(here + sep) || dir.split(sep).includes("node_modules")) continue;
    const p = join(dir, name);
    if (existsSync(p) && statSync(p).isFile()) {
      at = p;
      break;
    }
  }
  found.set(name, at);
  return at;
}

/** git as workledger runs it (a name no folder holds when there is none trusted: the call then fails as without git). */
export const gitProgram = () => trustedProgram("git") ?? "/nonexistent/git";
