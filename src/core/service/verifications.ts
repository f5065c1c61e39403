/** Verification: the command the caller may run, and the recorded result. */
import * as rules from "../rules.js";
import { LedgerError, isLedgerError, type ErrorBody } from "../errors.js";
import { once, recorded } from "../idempotency.js";
import type { IdempotentWrite } from "../port.js";
import { assertTrusted, sandboxFor } from "../sandbox.js";
import { inputs, type Inputs } from "../schemas.js";
import { appendNote, persist } from "../steps.js";
import { parse } from "../validate.js";
import { commandToRun } from "../verification.js";
import type { VerificationResult, VerifyCommand } from "./results.js";
import { loadAs, policyOf, readAs, type Service } from "./shared.js";

/**
 * The command the caller's verify may run now: the one pinned when its lease
 * began (refused if someone changed it since), or for an admin the current
 * one. Nothing is written; the door runs it, then calls recordVerification.
 */
export async function verifyCommand(svc: Service, input: Inputs["verifyCommand"]): Promise<VerifyCommand> {
  const c = parse(inputs.verifyCommand, input);
  const { project, agent, role, id, lease_token, trust } = c;
  return svc.store.read(async (tx) => {
    // A retry with the key of a verification already recorded answers it: the command does not run again (thirty-first trials).
    const same = (w: IdempotentWrite) => {
      const r = JSON.parse(w.result) as VerificationResult;
      return r.work_order.id === id && (c.dir === undefined || r.dir === c.dir);
    };
    const first = (await recorded(tx, "recordVerification", c, same)) as VerificationResult | undefined;
    const wo = await readAs(tx, project, id, agent);
    if (first !== undefined) return { project, id, command: first.command, author: wo.verification_by, sandbox: NO_RULES, replay: first };
    const policy = await policyOf(tx, project);
    const { command } = commandToRun(wo, agent, role, tx.now(), lease_token, policy.verification_authors);
    assertTrusted(policy, wo, agent, wo.verification_by, trust === true);
    return {
      project,
      id,
      command,
      author: wo.verification_by,
      sandbox: { required: policy.require_sandbox, network: policy.verification_network, env: policy.verification_env },
    };
  });
}

/** What a replayed verification runs under: nothing runs. */
const NO_RULES = { required: false, network: false, env: [] };

/** Records the outcome of running a WO's verification command (the door runs it), by its holder or an admin. */
export async function recordVerification(svc: Service, input: Inputs["verification"]): Promise<VerificationResult> {
  const v = parse(inputs.verification, input);
  return svc.write(
    (tx) =>
      once(tx, "recordVerification", v, async () => {
        let wo = await loadAs(tx, v.project, v.id, v.agent);
        const { command: allowed, as } = commandToRun(wo, v.agent, v.role, tx.now(), v.lease_token);
        if (v.command !== allowed) {
          throw new LedgerError(
            "VERIFICATION_CHANGED",
            `the command that ran is not the one ${rules.label(wo.id)} lets you verify with now (${JSON.stringify(allowed)}); nothing was recorded`,
            {
              hint: "{{op:verify}} again: it runs the command the work order lets you run",
              details: { project: v.project, id: wo.id, ran: v.command, current: allowed },
            },
          );
        }
        const policy = await policyOf(tx, v.project);
        const sandbox = v.sandbox ?? "none";
        if (sandbox === "none") sandboxFor(policy.require_sandbox, wo, "none", "the result says it ran without one");
        const git = v.git ?? null;
        // No exit code: it was killed at its timeout (a hang or a slow suite, not a pass; fifteenth trials read "FAILED (exit timeout)").
        const verdict = v.passed ? "PASSED" : v.exit_code === null ? "TIMED OUT (not a pass)" : `FAILED (exit ${v.exit_code})`;
        const where = git ? ` at ${git.head.slice(0, 12)}${git.branch ? ` (${git.branch}${v.head_moved ? ", HEAD moved while it ran" : git.dirty ? ", dirty" : ""})` : ""}` : "";
        const by = as === "admin" ? `${v.agent} (admin, not the holder)` : v.agent;
        const dir = v.dir ?? null;
        const body =
          `verification ${verdict} in ${(v.duration_ms / 1000).toFixed(1)}s (sandbox: ${sandbox}) by ${by}${where}${dir ? ` in ${dir}` : ""}: ${v.command}\n${v.output_tail}`.trimEnd();
        // The result counts for `done` (rules.checkDone) only under the lease it was recorded in.
        const underLease = rules.isLive(wo.lease, tx.now()) && wo.lease.agent === v.agent ? wo.lease.token : null;
        const record = {
          passed: v.passed,
          agent: v.agent,
          at: tx.now(),
          token: underLease,
          command: v.command,
          ...(git ? { head: git.head } : v.git === null ? { outside_git: true as const } : {}),
          ...(git?.dirty ? { dirty: true as const, ...(v.changed_by_run ? { changed_by_run: true as const } : {}), ...(v.head_moved ? { head_moved: true as const } : {}) } : {}),
        };
        const recorded = {
          ...wo,
          last_verification: rules.verificationRecord(wo.last_verification, record, { dir: v.dir, branch: v.git?.branch, top: v.top, repo: v.repo }, wo.branch, wo.id),
        };
        await tx.saveWorkOrder(recorded, wo);
        wo = recorded;
        let block_refused: ErrorBody | undefined;
        if (!v.passed && v.block_on_fail) {
          // A refused block (someone else holds it, or it is done) must not cost the recorded result.
          try {
            const change = rules.update(wo, v.agent, tx.now(), { role: v.role, status: "blocked", token: v.lease_token, via: "verify" });
            await persist(tx, change);
            wo = change.next;
          } catch (e) {
            if (!isLedgerError(e)) throw e;
            block_refused = e.toJSON();
          }
        }
        const note = await appendNote(tx, wo, { agent: v.agent, body, kind: "verification", data: { passed: v.passed } });
        return {
          passed: v.passed,
          exit_code: v.exit_code,
          duration_ms: v.duration_ms,
          command: v.command,
          dir,
          git,
          sandbox,
          work_order: rules.toPublic(wo),
          note,
          ...(block_refused ? { block_refused } : {}),
        };
      }),
    v.role,
  );
}
