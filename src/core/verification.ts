/**
 * Verification commands are code one agent writes and another runs on its
 * own machine, so who may write them and what a verify runs are rules:
 *
 * - A project's policy says who may set or change a WO's command: its
 *   creator and admins (the default), admins only, or any agent.
 * - A claim pins the command as it is then. The holder's verify runs the
 *   pinned command, and refuses (VERIFICATION_CHANGED) once someone else has
 *   changed it, so nobody can swap what a holder is about to run.
 * - Only the holder (or an admin) may run and record a verification.
 *
 * Every caller has a role; a local one is an agent unless it asked for admin.
 */
import { DEFAULT_BRANCH_PREFIX } from "./branch.js";
import { LedgerError } from "./errors.js";
import { holding, isLive, label } from "./rules.js";
import type { ProjectPolicy, Role, StoredWorkOrder, VerificationAuthors } from "./types.js";

export const DEFAULT_POLICY: ProjectPolicy = {
  verification_authors: "creator",
  require_verification: false,
  max_hold_ms: null,
  max_usd: null,
  max_tokens: null,
  max_attempts: null,
  prices: null,
  trusted_authors: null,
  verification_env: [],
  verification_network: false,
  require_sandbox: false,
  stages: [],
  done_stage: null,
  idle_limit_ms: 20 * 60_000,
  branch_prefix: DEFAULT_BRANCH_PREFIX,
  prune_after_ms: null,
};

const isAdmin = (role: Role | undefined) => role === "admin";

/** Who may set a WO's verification command under the project's rule, in a hint's words (twenty-third MCP trial: "its creator" where only admins may). */
export const authorsOf = (rule: VerificationAuthors, wo: { created_by: string }) =>
  rule === "admins" ? "an admin" : rule === "any" ? "anyone" : `its creator (${wo.created_by}) or an admin`;

/** Throws unless `agent` may set the verification command of `wo` (null: a WO it is creating). */
export function assertMayAuthor(policy: ProjectPolicy, project: string, agent: string, role: Role | undefined, wo: StoredWorkOrder | null): void {
  const rule = policy.verification_authors;
  if (isAdmin(role) || rule === "any" || (rule === "creator" && (wo === null || wo.created_by === agent))) return;
  const who = rule === "admins" ? "admins" : `the work order's creator (${wo?.created_by ?? "?"}) and admins`;
  const what = wo === null ? "a verification command" : `the verification command of ${label(wo.id)}`;
  throw new LedgerError("FORBIDDEN", `${agent} may not set ${what}: in project ${project} only ${who} may (it is code other agents run)`, {
    hint: `${rule === "admins" ? "ask an admin to set it" : `ask ${wo?.created_by ?? "its creator"} or an admin to set it`}${
      wo?.lease?.agent === agent ? ": they set it while nobody holds it, so {{op:release}} it ({{status=blocked}}, with a note saying what is wrong with the command)" : ""
    }${rule === "admins" ? "" : "; an admin can change the project's policy ({{op:setPolicy}} {{verification_authors}})"}`,
    details: { project, ...(wo ? { id: wo.id, created_by: wo.created_by } : {}), verification_authors: rule },
  });
}

/**
 * How the caller may verify `wo` (the effective view at `now`, with the
 * caller's last attempt: ledger.ts asCaller): as its holder, or as an admin.
 * Anyone else is refused before anything runs: LEASE_HELD when another agent
 * holds it, LEASE_LOST when the caller's own lease ended, NOT_HOLDER when it
 * never held one.
 */
export function verifierOf(wo: StoredWorkOrder, agent: string, role: Role | undefined, now: string, token: number | undefined): "holder" | "admin" {
  const mine = isLive(wo.lease, now) && wo.lease.agent === agent;
  if (mine || token !== undefined || !isAdmin(role)) {
    holding(wo, agent, now, token, true);
    return "holder";
  }
  return "admin";
}

/** The command the caller's verify may run now (the pinned one for the holder, the current one for an admin), and as whom it runs. */
export function commandToRun(
  wo: StoredWorkOrder,
  agent: string,
  role: Role | undefined,
  now: string,
  token: number | undefined,
  authors: VerificationAuthors = DEFAULT_POLICY.verification_authors,
): { command: string; as: "holder" | "admin" } {
  const as = verifierOf(wo, agent, role, now, token);
  const pinned = wo.pinned_verification ?? wo.verification; // leases from before pinning ran the current command
  if (as === "holder" && pinned !== wo.verification) {
    throw new LedgerError(
      "VERIFICATION_CHANGED",
      `the verification command of ${label(wo.id)} changed after your claim: you claimed it with ${JSON.stringify(pinned)}, it is now ${JSON.stringify(wo.verification)}`,
      {
        hint: "nothing was run; read the new command ({{op:get}}) and, if you trust it, {{op:release}} and {{op:claim}} again to verify with it",
        details: { project: wo.project, id: wo.id, pinned, current: wo.verification },
      },
    );
  }
  const command = as === "holder" ? pinned : wo.verification;
  if (!command.trim()) {
    throw new LedgerError("VALIDATION", `verification: ${label(wo.id)} has no verification command`, {
      hint: `${authorsOf(authors, wo)} sets one ({{op:update}} {{verification=npm test}}) while nobody holds it: its holder releases it first, with a note asking for one; until then, finishing it warns, or is refused where the project requires verification`,
      details: { issues: [{ field: "verification", message: "empty" }] },
    });
  }
  return { command, as };
}
