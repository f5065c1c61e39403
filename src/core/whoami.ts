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
import type { Attempt } from "./types.js";

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
  /** Its leases in the project that lapsed in the last day and that it has not claimed again, with why (an agent that lost track learns what it lost). */
  lapsed: { project: string; id: number; token: number; ended_at: string; why: LapseReason }[];
}

/** Why a lease lapsed: its TTL passed unrenewed, its keep-alive found the agent idle, or renewals reached the hold cap. */
type LapseReason = "expired" | "idle" | "max_hold";
const LAPSES_SHOWN = 5;

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
  const scope = project ?? me?.project ?? undefined;
  const [, held, tries] = await Promise.all([
    project === undefined ? [] : mine(project, 1),
    mine(me?.project ?? undefined, 1000),
    scope === undefined ? [] : ledger.attempts({ project: scope, agent, since: "24h", limit: 1000 }).catch(none),
  ]);
  const lapsed = scope === undefined ? [] : await lapses(ledger, scope, tries, new Set(held.map((w) => `${w.project}/${w.id}`)));
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
    lapsed,
  };
}

/**
 * The agent's newest attempt per WO in the last day, where it lapsed: recorded
 * so, or still open though it holds no lease there (its expiry is recorded at
 * the next write). Each one's expiry event says why.
 */
async function lapses(ledger: LedgerApi, project: string, tries: Attempt[], held: Set<string>): Promise<Whoami["lapsed"]> {
  const newest = new Map<number, Attempt>();
  for (const a of tries) if ((newest.get(a.wo)?.token ?? -1) < a.token) newest.set(a.wo, a);
  const lost = [...newest.values()]
    .filter((a) => a.outcome === "expired" || a.outcome === "lost" || (a.outcome === null && !held.has(`${project}/${a.wo}`)))
    .sort((a, b) => (b.ended_at ?? "").localeCompare(a.ended_at ?? ""))
    .slice(0, LAPSES_SHOWN);
  return Promise.all(
    lost.map(async (a) => {
      const ev = (await ledger.history({ project, id: a.wo, limit: 200 })).find((e) => e.type === "expired" && e.data.token === a.token);
      const reason = ev?.data.reason;
      return { project, id: a.wo, token: a.token, ended_at: a.ended_at ?? "", why: reason === "idle" || reason === "max_hold" ? reason : "expired" };
    }),
  );
}
