/**
 * Who the caller is and what it holds (the MCP `whoami` tool and the CLI's
 * `whoami`): its agent name (a remote ledger knows it by the token), its role,
 * and its live leases in every project, so an agent that lost track can find
 * its own work.
 */
import type { LedgerApi } from "./api.js";
import { inputs, type Inputs } from "./schemas.js";
import { noIdentity, parse } from "./validate.js";
import { notYetWritten } from "./steps.js";
import { capabilitiesOf } from "./stages.js";

export interface Whoami {
  agent: string;
  /** The ledger in use (a file, a database or a server), and the project asked about. */
  ledger: string;
  project: string | null;
  /** The token's role, or on a local ledger the one the caller acts in (agent unless it asked for admin). */
  role: string;
  /** The project a project-scoped token is limited to. */
  token_project: string | null;
  /** The capabilities claims are judged by (declared, within what a token allows); claims take only work requiring none other. */
  can: readonly string[];
  leases: { project: string; id: number; title: string; token: number; expires_at: string; hold_until: string | null }[];
}

export async function whoami(ledger: LedgerApi, input: Inputs["whoami"]): Promise<Whoami> {
  const { project, agent: given, role, can } = parse(inputs.whoami, input);
  const me = await ledger.whoami();
  const agent = me?.agent ?? given;
  if (agent === undefined) throw noIdentity();
  // Before a project's first write there is nothing held in it: whoami still answers (a near miss of a name is still refused).
  const none = (e: unknown) => {
    if (notYetWritten(e)) return [];
    throw e;
  };
  const mine = (p: string | undefined, limit: number) => ledger.list({ ...(p === undefined ? {} : { project: p }), agent, status: "claimed", limit }).catch(none);
  // Its leases in every project it may see (seventeenth trials: only the default project's were listed); the project asked
  // about is read only for the ledger to refuse a near miss of its name.
  const [, held] = await Promise.all([project === undefined ? [] : mine(project, 1), mine(me?.project ?? undefined, 1000)]);
  return {
    agent,
    ledger: ledger.info.location,
    project: project ?? null,
    role: me?.role ?? role ?? "agent",
    token_project: me?.project ?? null,
    can: capabilitiesOf(me?.can ?? null, can) ?? [],
    leases: held.flatMap((w) =>
      w.lease ? [{ project: w.project, id: w.id, title: w.title, token: w.lease.token, expires_at: w.lease.expires_at, hold_until: w.lease.hold_until }] : [],
    ),
  };
}
