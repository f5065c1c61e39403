/** Git under the lease: the holder check before git is touched, checkpoints, and commits judged by their trailers. */
import * as rules from "../rules.js";
import { judgeCommit, type CommitVerdict } from "../commits.js";
import { once } from "../idempotency.js";
import { inputs, type Inputs } from "../schemas.js";
import { requireProject } from "../steps.js";
import type { Attempt, Checkpoint, StoredWorkOrder } from "../types.js";
import { parse } from "../validate.js";
import type { CheckpointResult, Held } from "./results.js";
import { MAX_ROWS, checkpointsOf, loadAs, readAs, type Service } from "./shared.js";

/**
 * The WO the caller holds a live lease on (refused otherwise, as a holder's
 * write would be), with its checkpoints: what worktree and checkpoint ask
 * before they touch git, so a lapsed holder is stopped before it commits.
 */
export async function holding(svc: Service, input: Inputs["holding"]): Promise<Held> {
  const { project, id, agent, lease_token } = parse(inputs.holding, input);
  await svc.sweep(project);
  return svc.store.read(async (tx) => {
    const wo = await readAs(tx, project, id, agent);
    rules.holding(wo, agent, tx.now(), lease_token, true);
    return { ...rules.toPublic(wo), lease: wo.lease!, checkpoints: await checkpointsOf(tx, project, id) };
  });
}

/**
 * Records a checkpoint commit under the caller's live lease (the door made
 * the commit and moves the branch to it only once this succeeds). Not a
 * change of the WO's fields: its revision stays.
 */
export async function recordCheckpoint(svc: Service, input: Inputs["checkpoint"]): Promise<CheckpointResult> {
  const c = parse(inputs.checkpoint, input);
  return svc.write(
    (tx) =>
      once(tx, "recordCheckpoint", c, async () => {
        const wo = await loadAs(tx, c.project, c.id, c.agent);
        rules.holding(wo, c.agent, tx.now(), c.lease_token, true);
        // The same commit under the same lease is one checkpoint: git's hooks and `checkpoint` may each report it.
        const [last] = await tx.eventsOfType(c.project, c.id, "checkpoint", 1);
        if (last && last.data.commit === c.commit && Number(last.data.token) === wo.lease!.token)
          return { checkpoint: { commit: c.commit, agent: last.agent, token: wo.lease!.token, at: last.at, message: String(last.data.message) }, work_order: rules.toPublic(wo) };
        const checkpoint: Checkpoint = { commit: c.commit, agent: c.agent, token: wo.lease!.token, at: tx.now(), message: c.message };
        const { commit, token, message } = checkpoint;
        await tx.appendEvents([
          { project: c.project, wo: c.id, type: "checkpoint", agent: c.agent, revision: wo.revision, at: checkpoint.at, data: { commit, token, message, branch: wo.branch } },
        ]);
        // Files a verification command wrote are its author's, not the holder's (twenty-sixth MCP trial: a planted .envrc was checkpointed unsaid).
        const v = wo.last_verification;
        const planted =
          v?.changed_by_run && v.token === token
            ? [
                `${rules.label(wo.id)}'s last verification command changed files in ${v.where ?? "its work tree"} as it ran; this checkpoint commits whatever of them was still there: keep only your own work (git show ${commit.slice(0, 12)} lists it)`,
              ]
            : [];
        return { checkpoint, work_order: rules.toPublic(wo), ...(planted.length ? { warnings: planted } : {}) };
      }),
    c.role,
  );
}

// Webhook subscriptions (core/webhooks.ts): an admin's; serve's deliverer uses the methods after these.

/** Whether each commit was made while the lease its trailers name was live (core/commits.ts). */
export async function checkCommits(svc: Service, input: Inputs["checkCommits"]): Promise<CommitVerdict[]> {
  const { project, commits } = parse(inputs.checkCommits, input);
  await svc.sweep(project);
  return svc.store.read(async (tx) => {
    await requireProject(tx, project);
    const seen = new Map<number, { wo: StoredWorkOrder | null; attempts: Attempt[] }>();
    const out: CommitVerdict[] = [];
    for (const c of commits) {
      let known = seen.get(c.id);
      if (known === undefined) {
        const wo = await tx.getWorkOrder(project, c.id);
        known = { wo, attempts: wo ? await tx.listAttempts({ project, wo: c.id, limit: MAX_ROWS }) : [] };
        seen.set(c.id, known);
      }
      const attempt = known.attempts.find((a) => a.token === c.token);
      out.push(judgeCommit({ commit: c.commit ?? null, project, id: c.id, token: c.token, at: c.at ?? tx.now() }, known.wo, attempt, tx.now()));
    }
    return out;
  });
}
