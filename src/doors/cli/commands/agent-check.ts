/**
 * `workledger agent-check`: what an agent should not leave behind when its
 * session ends (the session-end hook of agent-setup runs it): leases it still
 * holds, and a claim since which it saved no context. Warnings only: it
 * always exits 0, so a hook never fails because of it.
 */
import type { Command } from "commander";
import { whoami } from "../../../core/whoami.js";
import { identity, projectOf, type Ctx, type Result } from "../invocation.js";
import { cliAction } from "../run.js";

export function register(program: Command): void {
  program
    .command("agent-check")
    .description("warn when you still hold leases, or claimed since you last saved context (for a session-end hook; always exits 0)")
    .action(cliAction(async (_o, ctx) => agentCheck(ctx)));
}

async function agentCheck(ctx: Ctx): Promise<Result> {
  try {
    return await check(ctx);
  } catch (e) {
    const warnings = [`agent-check could not look: ${e instanceof Error ? e.message : String(e)}`];
    return { data: { warnings }, warnings, human: () => "" };
  }
}

async function check(ctx: Ctx): Promise<Result> {
  const ledger = await ctx.ledger();
  const me = await whoami(ledger, { project: projectOf(ctx), agent: identity(ctx) });
  const warnings = me.leases.map((l) => `you still hold WO-${l.id} in ${l.project} (${l.title}): release it (with a status and a note) or it stays taken until ${l.expires_at}`);
  // Newest first: did the agent's last claim come after its last context_put?
  const events = await ledger.history({ project: projectOf(ctx), limit: 1000 });
  const mine = events.filter((e) => e.agent === me.agent).reverse();
  const lastClaim = mine.find((e) => e.type === "claimed");
  const lastContext = mine.find((e) => e.type === "context_put");
  if (lastClaim && (!lastContext || lastContext.seq < lastClaim.seq)) {
    warnings.push(`you saved no context since you claimed WO-${lastClaim.wo}: context-put --id ${lastClaim.wo} -m "what the next agent needs"`);
  }
  return { data: { agent: me.agent, leases: me.leases, warnings }, warnings, human: () => (warnings.length ? "" : "nothing left behind") };
}
