/**
 * `workledger keepalive --pid PID`: keep-alive tied to liveness for CLI
 * agents (DESIGN.md §9). While process PID lives, every lease the agent
 * holds in the project is renewed (renewAll, each by its own length) when a
 * third of the shortest has passed; when PID dies, keepalive exits and the
 * leases lapse one TTL after their last renewal.
 */
import type { Command } from "commander";
import { LedgerError, isLedgerError } from "../../../core/errors.js";
import type { RenewAllResult } from "../../../core/ledger.js";
import { leaseLength } from "../../../core/rules.js";
import type { Lease } from "../../../core/types.js";
import { intervalMs, usage } from "../input.js";
import { identity, projectOf, str, type Ctx } from "../invocation.js";
import { cliAction, untilSignal } from "../run.js";
import { c } from "../output.js";

const POLL_MS = 200;

export function register(program: Command): void {
  program
    .command("keepalive")
    .description("renew every lease you hold in the project while process PID lives; exit when it dies (the leases then lapse after their TTL)")
    .requiredOption("--pid <pid>", "the agent's process id (e.g. $PPID from a hook)")
    .option("--interval <duration>", "how often to look for new leases while holding none", "5s")
    .action(cliAction(async (o, ctx) => keepalive(ctx, str(o.pid) ?? "", str(o.interval) ?? "5s")));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

async function keepalive(ctx: Ctx, pidArg: string, intervalArg: string): Promise<{ data: undefined; human: () => string; exitCode: number }> {
  const pid = /^\d+$/.test(pidArg) ? Number(pidArg) : NaN;
  if (!Number.isSafeInteger(pid) || pid < 1) throw usage("pid", `must be a process id, got ${JSON.stringify(pidArg)}`);
  const idleMs = intervalMs(intervalArg, 100);
  if (!alive(pid)) throw new LedgerError("NOT_FOUND", `no process ${pid}`, { hint: "give the pid of the agent process that is alive now", details: { pid } });
  const ledger = await ctx.ledger();
  let stopped = false;
  void untilSignal().then(() => (stopped = true));
  const say = (line: string) => process.stderr.write(`${c.dim("keepalive:")} ${line}\n`);
  let held = new Set<number>();
  while (!stopped && alive(pid)) {
    let r: RenewAllResult;
    try {
      r = await ledger.renewAll({ project: projectOf(ctx), agent: identity(ctx), keepalive: true });
    } catch (e) {
      // Bad input or identity is final; anything else (server down) is retried at the next round.
      if (isLedgerError(e) && ["VALIDATION", "NO_IDENTITY", "NOT_FOUND", "UNAUTHORIZED", "FORBIDDEN"].includes(e.code)) throw e;
      say(`renewal failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
      r = { renewed: [], refused: [] };
    }
    for (const f of r.refused) say(`WO-${f.id}: ${f.error.message}`);
    const now = new Set(r.renewed.map((w) => w.id));
    for (const id of now) if (!held.has(id)) say(`keeping WO-${id} alive while process ${pid} lives`);
    held = now;
    if (ctx.json) process.stdout.write(JSON.stringify({ renewed: r.renewed.map((w) => ({ id: w.id, expires_at: w.lease?.expires_at })), refused: r.refused }) + "\n");
    const next = Math.min(idleMs, ...r.renewed.map((w) => leaseLength(w.lease as Lease) / 3));
    for (const until = Date.now() + next; !stopped && Date.now() < until && alive(pid);) await sleep(Math.min(POLL_MS, until - Date.now()));
  }
  say(stopped ? "stopped" : `process ${pid} ended: leases lapse after their TTL`);
  return { data: undefined, human: () => "", exitCode: 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(ms, 1)));
