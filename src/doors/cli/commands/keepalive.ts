/**
 * `workledger keepalive --pid PID`: keep-alive tied to liveness for CLI
 * agents (DESIGN.md §9). It makes PID a session (sessions.ts): every claim
 * made by a process descending from PID is held with the liveness TTL and
 * renewed here (doors/keep-alive.ts) while PID lives, and only those: never
 * the leases of another session of the same agent. When PID dies, keepalive
 * exits and the session's leases lapse within a minute.
 */
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import type { LeaseMemory } from "../../../core/lease-memory.js";
import { KeepAlive } from "../../keep-alive.js";
import { intervalMs, usage } from "../input.js";
import { leaseMemoryOf, str, type Ctx } from "../invocation.js";
import { tokenMemoryOff } from "../lease-files.js";
import { cliAction, untilSignal } from "../run.js";
import { c } from "../output.js";
import { alive, idleFor, registerSession } from "../sessions.js";

const POLL_MS = 200;

export function register(program: Command): void {
  program
    .command("keepalive")
    .description("while process PID lives, hold and renew the leases claimed by its descendants (the agent's session); exit when it dies (those leases then lapse within a minute)")
    .requiredOption("--pid <pid>", "the agent's process id (e.g. $PPID from a hook)")
    .option("--interval <duration>", "how often to report the session's leases (with --json, one line each time)", "5s")
    .action(cliAction(async (o, ctx) => keepalive(ctx, str(o.pid) ?? "", str(o.interval) ?? "5s")));
}

/** The leases of one session, in the agent's lease memory. */
const sessionOnly = (memory: LeaseMemory, pid: number): LeaseMemory => ({ ...memory, all: () => memory.all().filter((l) => l.session === pid) });

async function keepalive(ctx: Ctx, pidArg: string, intervalArg: string): Promise<{ data: undefined; human: () => string; exitCode: number }> {
  const pid = /^\d+$/.test(pidArg) ? Number(pidArg) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1) throw usage("pid", `must be a process id, got ${JSON.stringify(pidArg)}`);
  const reportMs = intervalMs(intervalArg, 100);
  if (!alive(pid)) throw new LedgerError("NOT_FOUND", `no process ${pid}`, { hint: "give the pid of the agent process that is alive now", details: { pid } });
  if (tokenMemoryOff()) {
    throw new LedgerError("VALIDATION", "keepalive needs the lease memory: WORKLEDGER_TOKEN_MEMORY is off", {
      hint: "unset WORKLEDGER_TOKEN_MEMORY, or renew by hand (workledger renew)",
      details: { issues: [{ field: "WORKLEDGER_TOKEN_MEMORY", message: "off" }] },
    });
  }
  const ledger = await ctx.ledger();
  const memory = sessionOnly(leaseMemoryOf(ledger, ctx.agent), pid);
  const unregister = registerSession(pid);
  const keeper = new KeepAlive(ledger, memory, ctx.agent, () => idleFor(pid));
  let stopped = false;
  void untilSignal().then(() => (stopped = true));
  const say = (line: string) => process.stderr.write(`${c.dim("keepalive:")} ${line}\n`);
  keeper.start();
  try {
    let held = new Set<string>();
    let reported = 0;
    while (!stopped && alive(pid)) {
      for (const f of keeper.takeFailures()) say(f);
      const leases = memory.all().filter((l) => !l.lost);
      const now = new Set(leases.map((l) => `${l.project}\0${l.id}`));
      for (const l of leases) if (!held.has(`${l.project}\0${l.id}`)) say(`keeping WO-${l.id} in ${l.project} alive while process ${pid} lives`);
      held = now;
      if (ctx.json && Date.now() - reported >= reportMs) {
        reported = Date.now();
        process.stdout.write(JSON.stringify({ session: pid, leases: leases.map((l) => ({ project: l.project, id: l.id, token: l.token })) }) + "\n");
      }
      await sleep(POLL_MS);
    }
  } finally {
    keeper.stop();
    unregister();
  }
  say(stopped ? "stopped" : `process ${pid} ended: leases lapse after their TTL`);
  return { data: undefined, human: () => "", exitCode: 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
