/**
 * Keep-alive sessions of CLI agents (DESIGN.md §9). `keepalive --pid P`
 * registers P as a session (a file under the state directory naming the
 * keepalive process); a claim made by a process that descends from P belongs
 * to that session: it is held with the short liveness TTL, its lease memory
 * says so, and only that keepalive renews it. So a second session of the same
 * agent never keeps a dead session's leases alive, and a session that dies
 * lets its WOs go within about a minute.
 *
 * Descent is read from /proc (Linux); elsewhere no claim finds a session and
 * leases keep their full TTL, renewed by hand.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { leaseDir, STATE_DIR } from "./lease-files.js";
import { assertPrivateDir } from "./private-dir.js";

const sessionDir = () => join(leaseDir(), "sessions");
const MAX_DEPTH = 64;

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

/** Marks `pid` as a session kept alive by this process; undone by the returned function. */
export function registerSession(pid: number): () => void {
  assertPrivateDir(leaseDir(), STATE_DIR);
  mkdirSync(sessionDir(), { recursive: true, mode: 0o700 });
  const file = join(sessionDir(), String(pid));
  writeFileSync(file, JSON.stringify({ keeper: process.pid }), { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

/** The parent of `pid`, from /proc (null where there is none, or no /proc). */
function parentOf(pid: number): number | null {
  try {
    // Field 4 of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isSafeInteger(ppid) && ppid > 0 ? ppid : null;
  } catch {
    return null;
  }
}

/** The live keep-alive session this process runs in (the nearest registered ancestor), or undefined. */
export function currentSession(): number | undefined {
  let pid: number | null = process.ppid;
  for (let depth = 0; pid !== null && pid > 1 && depth < MAX_DEPTH; depth++, pid = parentOf(pid)) {
    let keeper: number;
    try {
      keeper = (JSON.parse(readFileSync(join(sessionDir(), String(pid)), "utf8")) as { keeper: number }).keeper;
    } catch {
      continue; // not a session
    }
    if (alive(keeper)) return pid;
  }
  return undefined;
}
