/**
 * Stages and capabilities (issue 25): a project may be a pipeline of stages
 * (triage → enrich → ready …), each a queue of its own that the holder hands
 * work on through; and work may need capabilities (`code`, `db`, `opus`) that
 * only some agents declare. A WO is claimable by an agent whose capabilities
 * include all it requires. Pure rules; stores only filter by a QueueFilter.
 */
import { LedgerError } from "./errors.js";
import { label } from "./types.js";
import type { ProjectPolicy, StoredWorkOrder } from "./types.js";

/** What claim --next and find-unclaimed take, as a store filters it (see Tx.claimable). */
export interface QueueFilter {
  /** Only WOs in this stage. */
  stage?: string | undefined;
  /** Only WOs with at least one of these labels. */
  labels?: readonly string[] | undefined;
  /** Only WOs whose `requires` are all among these capabilities (undefined: any WO). */
  can?: readonly string[] | undefined;
}

/** The stage named `name` in the policy, or a VALIDATION error naming the stages there are. */
export function stageOf(policy: ProjectPolicy, project: string, name: string, field = "stage"): string {
  const names = policy.stages;
  if (names.includes(name)) return name;
  throw new LedgerError(
    "VALIDATION",
    names.length
      ? `${field}: project ${project} has no stage ${JSON.stringify(name)}; its stages are ${names.join(", ")}`
      : `${field}: project ${project} has no stages${field === "stage" ? "" : ", so a work order cannot be put in one"}`,
    {
      hint: names.length ? `use one of ${names.join(", ")}` : "leave the stage out, or ask an admin to give the project stages ({{op:setPolicy}} {{stages=…}})",
      details: { issues: [{ field, message: names.length ? `must be one of ${names.join(", ")}` : "the project has no stages" }], stages: names },
    },
  );
}

/** The stage a new WO starts in: the one asked for, else the project's first (null: the project has no stages). */
export function initialStage(policy: ProjectPolicy, project: string, asked: string | undefined, field = "stage"): string | null {
  if (asked !== undefined) return stageOf(policy, project, asked, field);
  return policy.stages[0] ?? null;
}

/** Why an agent with capabilities `can` does not fit `wo` (a claim by id; `any` says the caller knows it does not). */
export function capabilityMissing(wo: StoredWorkOrder, can: readonly string[]): LedgerError {
  const missing = wo.requires.filter((c) => !can.includes(c));
  return new LedgerError(
    "CAPABILITY_MISSING",
    `${label(wo.id)} requires ${wo.requires.join(", ")}; you declared ${can.length ? can.join(", ") : "no capabilities"}, so ${missing.join(", ")} is missing`,
    {
      // A holder may sharpen what a WO requires (an enricher does): one that asks for what nobody declares is claimed this way (thirty-second MCP trial).
      hint: "pick work that fits ({{op:findUnclaimed}} lists only that), or declare the capability if you have it (WORKLEDGER_CAN); if you know you can do it, {{op:claim}} it by id with {{any=true}}",
      details: { project: wo.project, id: wo.id, requires: wo.requires, missing, can },
    },
  );
}

/** The store's filter: a stage, any of some labels, and unless `any`, only WOs whose requirements the caller's capabilities cover. */
export function queueFilter(q: {
  stage?: string | undefined;
  labels?: readonly string[] | undefined;
  can?: readonly string[] | undefined;
  any?: boolean | undefined;
}): QueueFilter {
  return { stage: q.stage, labels: q.labels?.length ? q.labels : undefined, can: q.any ? undefined : (q.can ?? []) };
}

/** Whether `wo` passes `filter` (what the stores filter by, stated once in the core for tests to hold them to). */
export function passes(wo: Pick<StoredWorkOrder, "stage" | "labels" | "requires">, filter: QueueFilter): boolean {
  if (filter.stage !== undefined && wo.stage !== filter.stage) return false;
  if (filter.labels && !wo.labels.some((l) => filter.labels!.includes(l))) return false;
  return filter.can === undefined || wo.requires.every((c) => filter.can!.includes(c));
}

/**
 * Where a WO may be moved (issue 23, seventh trials: work skipped every stage
 * between enrich and ship): on to the next stage, or back to any earlier one;
 * an admin anywhere. A WO without a stage enters at the first. Who may move it
 * is the update rule's (the holder, or before any claim its creator).
 */
export function assertStageMove(policy: ProjectPolicy, wo: StoredWorkOrder, to: string, role: string | undefined): void {
  stageOf(policy, wo.project, to);
  if (role === "admin" || to === wo.stage) return;
  const at = wo.stage === null ? -1 : policy.stages.indexOf(wo.stage);
  const next = policy.stages[at + 1];
  if (policy.stages.indexOf(to) <= at || to === next) return;
  throw new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} is in stage ${wo.stage ?? "(none)"}: it moves on to ${next ?? "no later stage"} next, not to ${to}`, {
    hint: `hand it on to ${next ?? "an earlier stage"} ({{stage=${next ?? policy.stages[0]}}}); its agents take it from there`,
    details: { project: wo.project, id: wo.id, stage: wo.stage, to, next: next ?? null, stages: policy.stages },
  });
}

/** Throws unless `done` may be set on a WO that will rest in `stage` (a project may name the stage work finishes from). */
export function assertDoneStage(wo: StoredWorkOrder, stage: string | null, policy: ProjectPolicy): void {
  const last = policy.done_stage;
  if (last === null || stage === last) return;
  throw new LedgerError("ILLEGAL_TRANSITION", `${label(wo.id)} cannot be done in stage ${stage ?? "(none)"}: project ${wo.project} finishes work only from stage ${last}`, {
    hint: `hand it on towards ${last} (release it with the next stage) for the agents of that stage, or release it with a note`,
    details: { project: wo.project, id: wo.id, stage, done_stage: last },
  });
}

/**
 * The capabilities a caller acts with: what it declares, within what an
 * admin allowed its token (`can` on the token); declaring nothing, the
 * token's. A token without `can` takes what its holder declares.
 */
export function capabilitiesOf(allowed: readonly string[] | null, declared: readonly string[] | undefined, any = false): readonly string[] | undefined {
  if (allowed === null) return declared;
  if (any)
    throw new LedgerError("FORBIDDEN", "your token's capabilities were set by an admin: you may not claim work that needs others (any)", {
      hint: "pick work that fits your capabilities, or ask an admin for a token that allows more",
      details: { allowed },
    });
  if (declared === undefined) return allowed;
  const extra = declared.filter((c) => !allowed.includes(c));
  if (extra.length === 0) return declared;
  throw new LedgerError("FORBIDDEN", `your token allows the capabilities ${allowed.length ? allowed.join(", ") : "(none)"}, not ${extra.join(", ")}`, {
    hint: "declare only capabilities your token allows, or ask an admin for a token that allows more",
    details: { allowed, declared },
  });
}
