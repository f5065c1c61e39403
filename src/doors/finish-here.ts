/**
 * Where a finish is judged (release or update with status done): the WO's
 * branch as it is in the caller's repository, wherever the caller stands. A
 * holder finishing from the main checkout or from outside git was judged by
 * that directory's HEAD, so a branch moved under it after its pass went
 * unnoticed (twenty-fourth trials: done on a non-holder's failing commit).
 */
import type { LedgerApi } from "../core/api.js";
import type { LocalRepository } from "../core/freshness.js";
import type { GitState } from "../core/types.js";

/**
 * Where a handover linked to a WO nobody holds is stamped when its author
 * stands off the WO's branch (right after its own release, the only one the
 * ledger lets write it then): the
 * branch as it is here, once it holds checkpointed work, since that work is
 * what the handover describes. SKILL.md's loop, release then context-put from
 * the main checkout, saved it stale at once (thirty-fourth trials).
 */
export async function handoverHere(ledger: LedgerApi, input: Record<string, unknown>, repo: LocalRepository | undefined): Promise<void> {
  const { project } = input;
  const id = idOf(input);
  const here = input.git as GitState | null | undefined;
  if (repo === undefined || typeof project !== "string" || !Number.isInteger(id)) return;
  const wo = await ledger.get({ project, id }).catch(() => null);
  // Held (by the caller, or the ledger refuses the write): a holder with no worktree describes what it stands on (twenty-second MCP trial).
  if (wo === null || wo.lease !== null || here?.branch === wo.branch || wo.checkpoints.length === 0) return;
  const tip = repo.tip(wo.branch);
  if (tip !== undefined) input.git = { head: tip, branch: wo.branch, dirty: false };
}

/** `repo`: the repository the caller stands in (from outside git, done.ts asks it to finish from there). */
export async function finishHere(ledger: LedgerApi, input: Record<string, unknown>, repo: LocalRepository | undefined): Promise<void> {
  const { project, status } = input;
  const id = idOf(input);
  if (status !== "done" || repo === undefined || typeof project !== "string" || !Number.isInteger(id)) return;
  const root = repo.root();
  if (root !== undefined) input.finished_in = root;
  const here = input.git as GitState | null | undefined;
  const wo = await ledger.get({ project, id }).catch(() => null);
  if (wo === null || here?.branch === wo.branch) return;
  const tip = repo.tip(wo.branch);
  if (tip !== undefined) input.git = { head: tip, branch: wo.branch, dirty: false };
  // A repository without the WO's branch tells nothing of where it is: judged as from outside git (twenty-sixth trials:
  // done from an unrelated repository skipped the check that the branch had not moved since the pass).
  else if (here) input.git = null;
}

/** The WO id as given: 53, or "WO-53" (the core's schema reads both); NaN when there is none. */
const idOf = (input: Record<string, unknown>) => (input.id === undefined ? Number.NaN : Number(String(input.id).replace(/^\s*wo-?/i, "")));
