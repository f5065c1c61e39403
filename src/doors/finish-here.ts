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

/** `repo`: the repository the caller stands in (from outside git, done.ts asks it to finish from there). */
export async function finishHere(ledger: LedgerApi, input: Record<string, unknown>, repo: LocalRepository | undefined): Promise<void> {
  const { project, status } = input;
  // As given: 53, or "WO-53" (the core's schema reads both).
  const id = Number(String(input.id).replace(/^\s*wo-?/i, ""));
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
