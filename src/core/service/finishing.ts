/** A holder's release and update (done in one statement where the store compiles it), and notes. */
import * as rules from "../rules.js";
import { LedgerError } from "../errors.js";
import { assertDependencies } from "../dependencies.js";
import { lastCheckpoint } from "../context.js";
import { keyedWrite, once } from "../idempotency.js";
import { isRuleResult, type RuleResult } from "../rule-data.js";
import type { Tx } from "../port.js";
import { inputs, type Inputs, type Parsed } from "../schemas.js";
import { assertStageMove } from "../stages.js";
import { appendNote, persist } from "../steps.js";
import { CAP_FIELDS, type GitState, type Note, type Role, type StoredWorkOrder } from "../types.js";
import { parse } from "../validate.js";
import { DEFAULT_POLICY, assertMayAuthor } from "../verification.js";
import { FINISH_BY_RELEASE, FINISH_BY_UPDATE } from "../write-rules.js";
import type { Finished } from "./results.js";
import { finished, loadAs, policyOf, type Service } from "./shared.js";
import { spendIn } from "./spending.js";

/** What finishing `wo` must satisfy: its dependencies, and its project's policy. */
async function finishing(
  tx: Tx,
  wo: StoredWorkOrder,
  role: Role | undefined,
  unverifiedReason: string | undefined,
  here: GitState | null | undefined,
  finishedIn: string | undefined,
): Promise<rules.Finish> {
  const [policy, pending, checkpoint] = await Promise.all([
    policyOf(tx, wo.project),
    wo.depends_on.length ? tx.notDoneOf(wo.project, wo.depends_on) : [],
    lastCheckpoint(tx, wo.project, wo.id),
  ]);
  return {
    policy,
    role,
    unverifiedReason,
    pending,
    ...(checkpoint ? { lastCheckpoint: checkpoint } : {}),
    ...(here !== undefined ? { here } : {}),
    ...(finishedIn !== undefined ? { finishedIn } : {}),
  };
}

/** An admin who finished a WO without the verification its project requires leaves the reason as a verification note, for all to see. */
async function noteOverride(tx: Tx, change: rules.Change, agent: string): Promise<void> {
  const reason = change.events.find((e) => typeof e.data.unverified_reason === "string")?.data.unverified_reason as string | undefined;
  if (reason !== undefined) await appendNote(tx, change.next, { agent, body: `done without a passing verification (admin override by ${agent}): ${reason}`, kind: "verification" });
}

/** The next agent (or a person) must learn what blocks it; a bare "blocked" says nothing. */
const noteRequired = () =>
  new LedgerError("VALIDATION", "note: required when releasing as blocked: say what blocks it", {
    hint: "{{op:release}} {{status=blocked}} {{note=what fails or what is missing}}",
    details: { issues: [{ field: "note", message: "required with status blocked" }] },
  });

export async function release(svc: Service, input: Inputs["release"]): Promise<Finished> {
  const r = parse(inputs.release, input);
  const { project, agent, role, id, status, note, lease_token, unverified_reason, spend, stage } = r;
  if (status === "done" && note === undefined && spend === undefined && stage === undefined) {
    const atOnce = await finishAtOnce(svc, r, "release");
    if (atOnce) return atOnce;
  }
  return svc.write(
    (tx) =>
      once(
        tx,
        "release",
        r,
        async (): Promise<Finished> => {
          let wo = await loadAs(tx, project, id, agent);
          if (status === "blocked" && !note?.trim()) {
            // The lease is judged first (release's own checks, nothing written): a lapsed holder learns it lost the WO (seventeenth trials).
            rules.release(wo, agent, tx.now(), status, lease_token, undefined, stage);
            throw noteRequired();
          }
          // Spend given with the release goes against the attempt it ends, before it ends (a cap it reaches then decides where the WO goes).
          let spent: string[] = [];
          if (spend !== undefined) {
            rules.holding(wo, agent, tx.now(), lease_token, true);
            const r = await spendIn(tx, wo, { ...spend, project, agent, role, id, lease_token });
            wo = r.next;
            spent = r.result.warnings ?? [];
          }
          if (stage !== undefined) assertStageMove(await policyOf(tx, project), wo, stage, role);
          const finish = status === "done" ? await finishing(tx, wo, role, unverified_reason, r.git, r.finished_in) : undefined;
          const change = rules.release(wo, agent, tx.now(), status, lease_token, finish, stage);
          await persist(tx, change);
          await noteOverride(tx, change, agent);
          if (note !== undefined) await appendNote(tx, change.next, { agent, body: note, kind: status === "blocked" ? "blocker" : "progress" });
          const out = finished(change);
          return spent.length ? { ...out, warnings: [...spent, ...(out.warnings ?? [])] } : out;
        },
        replayedFinish(tx, "release", r),
      ),
    role,
  );
}

export async function update(svc: Service, input: Inputs["update"]): Promise<Finished> {
  const parsed = parse(inputs.update, input);
  // One dependency named twice (53, WO-53) is one (twenty-first MCP trial: [19,19,19] was stored).
  const deps = parsed.fields?.depends_on;
  const u = deps ? { ...parsed, fields: { ...parsed.fields, depends_on: [...new Set(deps)] } } : parsed;
  const { project, agent, role, id, fields, status, note, if_revision, lease_token, unverified_reason, stage } = u;
  const hasFields = fields !== undefined && Object.values(fields).some((v) => v !== undefined);
  if (!hasFields && status === undefined && note === undefined && stage === undefined) {
    throw new LedgerError("VALIDATION", "nothing to update: give at least one field, a status, a stage or a note", {
      hint: "e.g. {{status=done}}, or {{title=…}}",
      details: { issues: [{ field: "", message: "no change requested" }] },
    });
  }
  if (status === "done" && !hasFields && note === undefined && stage === undefined && if_revision === undefined) {
    const atOnce = await finishAtOnce(svc, u, "update");
    if (atOnce) return atOnce;
  }
  return svc.write(
    (tx) =>
      once(
        tx,
        "update",
        u,
        async (): Promise<Finished> => {
          const wo = await loadAs(tx, project, id, agent);
          if (fields?.verification !== undefined && fields.verification !== wo.verification) {
            assertMayAuthor(await policyOf(tx, project), project, agent, role, wo);
          }
          if (fields?.depends_on !== undefined) await assertDependencies(tx, wo, fields.depends_on, agent, role);
          const caps = CAP_FIELDS.filter((c) => fields?.[c] !== undefined && fields[c] !== wo[c]);
          if (caps.length && role !== "admin") {
            throw new LedgerError("FORBIDDEN", `only admins may change the budget of ${rules.label(id)} (${caps.join(", ")})`, {
              hint: "ask an admin; a budget is set when the work order is created",
              details: { project, id, fields: caps },
            });
          }

          if (stage !== undefined) assertStageMove(await policyOf(tx, project), wo, stage, role);
          const finish = status === "done" ? await finishing(tx, wo, role, unverified_reason, u.git, u.finished_in) : undefined;
          const change = rules.update(wo, agent, tx.now(), { role, fields, status, stage, ifRevision: if_revision, token: lease_token, finish });
          await persist(tx, change);
          await noteOverride(tx, change, agent);
          if (note !== undefined) await appendNote(tx, change.next, { agent, body: note, kind: status === "blocked" ? "blocker" : "progress" });
          return finished(change);
        },
        replayedFinish(tx, "update", u),
      ),
    role,
  );
}

/**
 * The holder's `done` as one statement where the store compiles rules
 * (write-rules.ts FINISH_BY_*); null: the full sequence's (see claimAtOnce).
 * Finished unverified, the warning is the core's own words for the state
 * before.
 */
async function finishAtOnce(svc: Service, r: Parsed["release"] | Parsed["update"], via: "release" | "update"): Promise<Finished | null> {
  const { project, agent, role, id, lease_token } = r;
  // From outside git (the door said so), the full sequence judges whether the work's branch could be checked (done.ts).
  if (!svc.store.applyRule || role === "admin" || r.unverified_reason !== undefined || r.git === null) return null;
  const here = { here_head: r.git?.head ?? null };
  const out = await svc.store.applyRule(
    via === "release" ? FINISH_BY_RELEASE : FINISH_BY_UPDATE,
    { project, id },
    { agent, token: lease_token ?? null, ...here },
    keyedWrite(via, r),
  );
  if (out.verdict !== "applied") return null;
  if (out.event) svc.opts.onEvents?.([out.event]);
  return finishedFrom(out.before, out.after!, via, r);
}

/**
 * The answer to a holder's done applied in one statement, from the states
 * before and after: the WO, and unverified, why (in the core's words). A
 * retry with the same key gets it again from the key's record.
 */
function finishedFrom(before: StoredWorkOrder | null, after: StoredWorkOrder, via: "release" | "update", r: Parsed["release"] | Parsed["update"]): Finished {
  const finished = rules.toPublic(after);
  if (!before) return finished;
  // The rule applied, so the project neither requires verification nor has a done stage, and no dependency is pending.
  const finish: rules.Finish = { policy: DEFAULT_POLICY, role: r.role, pending: [] };
  const at = after.updated_at;
  const { warnings } =
    via === "release" ? rules.release(before, r.agent, at, "done", r.lease_token, finish) : rules.update(before, r.agent, at, { status: "done", token: r.lease_token, finish });
  return warnings?.length ? { ...finished, warnings } : finished;
}

/**
 * A key's first result as recorded: the answer itself, or the states a
 * one-statement done left (finishedFrom); but not while the caller holds the
 * WO under a later lease, which that answer would hide (twenty-eighth trials:
 * the retried release said "open, no lease" while the agent still held it).
 */
const replayedFinish = (tx: Tx, via: "release" | "update", r: Parsed["release"] | Parsed["update"]) => async (first: Finished | RuleResult<StoredWorkOrder>) => {
  const answer = isRuleResult(first) ? finishedFrom(first.before, first.after, via, r) : first;
  const now = await tx.getWorkOrder(r.project, r.id);
  if (now !== null && rules.isLive(now.lease, tx.now()) && now.lease.agent === r.agent && now.lease.token > answer.attempts)
    throw new LedgerError(
      "IDEMPOTENCY_MISMATCH",
      `idempotency key ${JSON.stringify(r.idempotency_key)} answers ${via === "release" ? "the release" : "the change"} of ${rules.label(r.id)} under lease ${answer.attempts}; you hold it under lease ${now.lease.token} now: nothing was written`,
      {
        hint: "to end this lease, send a new key (or none)",
        details: { project: r.project, id: r.id, idempotency_key: r.idempotency_key, lease: now.lease.token },
      },
    );
  return answer;
};

export async function addNote(svc: Service, input: Inputs["addNote"]): Promise<Note> {
  const n = parse(inputs.addNote, input);
  const { project, agent, role, id, kind, body } = n;
  return svc.write(
    (tx) =>
      once(tx, "addNote", n, async () => {
        const wo = await loadAs(tx, project, id, agent);
        // Anyone may comment, except a lapsed holder, whose words must not pass for the new holder's:
        // fenced by name, and by the token its door remembers (another session of the same agent may hold it now).
        rules.assertNotFenced(wo, agent, tx.now(), n.lease_token);
        return appendNote(tx, wo, { agent, body, kind: kind ?? "progress" });
      }),
    role,
  );
}
