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
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { leaseDir, STATE_DIR } from "./lease-files.js";
import { assertPrivateDir } from "./private-dir.js";

export const sessionDir = () => join(leaseDir(), "sessions");
/** Touched whenever the session's agent does something: a workledger command in it, or a client hook per tool use (agent-setup). */
export const activityFile = (pid: number) => join(sessionDir(), `${pid}.active`);
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
  touchActivity(pid);
  return () => {
    rmSync(file, { force: true });
    rmSync(activityFile(pid), { force: true });
  };
}

/** Records that session `pid`'s agent did something now; never fails the command that does it. */
export function touchActivity(pid: number): void {
  const file = activityFile(pid);
  const now = new Date();
  try {
    utimesSync(file, now, now);
  } catch {
    try {
      writeFileSync(file, "", { mode: 0o600 });
    } catch {
      // no session directory (yet): nothing to record
    }
  }
}

/** How long ago session `pid`'s agent last did something (ms), or undefined when nothing was recorded. */
export function idleFor(pid: number): number | undefined {
  try {
    return Math.max(0, Date.now() - statSync(activityFile(pid)).mtimeMs);
  } catch {
    return undefined;
  }
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
