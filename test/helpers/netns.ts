/**
 * Test hosts of the test's own: Linux network namespaces, each joined to the
 * test's namespace by veth links on private /30 subnets. Taking a link down is
 * a real partition (packets are dropped, connections hang, no resets). Only
 * these links and loopback are ever addressed. Needs root and iproute2.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { skipLoudly } from "./util.ts";

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

/** One veth link between the test's namespace (`local`) and a host (`remote`). */
export interface Link {
  /** The test's side: relays listen here. */
  local: string;
  /** The host's side. */
  remote: string;
  down(): void;
  up(): void;
}

/** Why test hosts cannot be made here, or undefined when they can. */
function cannot(): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "creating network namespaces needs root";
  try {
    const probe = `wlprobe${process.pid}`;
    ip("netns", "add", probe);
    ip("netns", "del", probe);
  } catch (e) {
    return `ip netns add failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
  }
  return undefined;
}

export function requireNetns(tests: string): boolean {
  const why = cannot();
  return why === undefined || skipLoudly(tests, why, ["Run them as root on Linux with iproute2 (these machines allow `ip netns add`)."]);
}

function freeNet(): number {
  const used = execFileSync("ip", ["-o", "-4", "addr", "show"], { encoding: "utf8" });
  const free = Array.from({ length: 100 }, (_, i) => 100 + i).filter((n) => !used.includes(` 10.${n}.`));
  if (!free.length) throw new Error("no free 10.100-199.x.x range for test links (delete stale namespaces: ip netns list)");
  return free[Math.floor(Math.random() * free.length)]!;
}

export class TestNet {
  private readonly hosts: string[] = [];
  private links = 0;
  /** A per-run prefix for names, so that runs never collide. */
  private readonly id = Math.floor(Math.random() * 100_000);
  /** Links are 10.<net>.<link>.0/30, <net> picked per run among those no interface here uses (a run killed before its cleanup leaves its links). */
  private readonly net = freeNet();

  /** A new host (namespace) with loopback up; returns its name for exec(). */
  host(name: string): string {
    const ns = `wl${this.id}-${name}`;
    ip("netns", "add", ns);
    this.hosts.push(ns);
    ip("-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  /** A point-to-point link from the test's namespace to `ns`. */
  link(ns: string): Link {
    const k = ++this.links;
    // Interface names have at most 15 characters.
    const localDev = `wl${this.id}l${k}`;
    const remoteDev = `wl${this.id}r${k}`;
    const local = `10.${this.net}.${k}.1`;
    const remote = `10.${this.net}.${k}.2`;
    ip("link", "add", localDev, "type", "veth", "peer", "name", remoteDev);
    ip("link", "set", remoteDev, "netns", ns);
    ip("addr", "add", `${local}/30`, "dev", localDev);
    ip("-n", ns, "addr", "add", `${remote}/30`, "dev", remoteDev);
    ip("link", "set", localDev, "up");
    ip("-n", ns, "link", "set", remoteDev, "up");
    return { local, remote, down: () => ip("link", "set", localDev, "down"), up: () => ip("link", "set", localDev, "up") };
  }

  /** A process on a host. */
  spawn(ns: string, command: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    return spawn("ip", ["netns", "exec", ns, command, ...args], opts);
  }

  /** Deletes the hosts; their ends of the links go with them, and with those the test's ends. */
  destroy(): void {
    for (const ns of this.hosts.splice(0)) {
      try {
        ip("netns", "del", ns);
      } catch {
        // already gone
      }
    }
  }
}
