/** Projects and their policy (the policy merge keeps what a change leaves out). */
import { LedgerError } from "../errors.js";
import type { Tx } from "../port.js";
import { inputs, type Inputs } from "../schemas.js";
import { stageOf } from "../stages.js";
import { projectForWrite, projectNotFound } from "../steps.js";
import type { Project, ProjectPolicy, ProjectSummary } from "../types.js";
import { parse } from "../validate.js";
import { mergePolicy } from "../policy.js";
import { DEFAULT_POLICY } from "../verification.js";
import type { Service } from "./shared.js";

/**
 * A project's stages may change only so that no unfinished WO is left in a
 * stage that no longer exists (its agents would never find it again), and the
 * done stage must be one of them.
 */
async function assertStagesFit(tx: Tx, before: ProjectPolicy, after: ProjectPolicy, project: string): Promise<void> {
  if (after.done_stage !== null) stageOf(after, project, after.done_stage, "done_stage");
  const dropped = before.stages.filter((s) => !after.stages.includes(s));
  if (dropped.length === 0) return;
  const left = (await tx.stageCounts(project)).filter((c) => c.stage !== null && dropped.includes(c.stage));
  if (left.length === 0) return;
  const where = left.map((c) => `${c.n} in ${c.stage}`).join(", ");
  throw new LedgerError("VALIDATION", `stages: ${dropped.join(", ")} still hold unfinished work orders (${where}); they would never be found again`, {
    hint: "move them to a stage that stays ({{op:update}} {{stage=…}}) or finish them first, then change the stages",
    details: { issues: [{ field: "stages", message: "a dropped stage still holds work" }], left },
  });
}

export async function createProject(svc: Service, input: Inputs["createProject"]): Promise<Project & { created: boolean }> {
  const { project, new_project } = parse(inputs.createProject, input);
  return svc.write(async (tx) => {
    const existing = await tx.getProject(project);
    if (existing) return { ...existing, created: false };
    // A typo is refused here too (issue 23: `init -p shpo` beside shop split the work), unless the name is meant.
    await projectForWrite(tx, project, new_project === true);
    return { name: project, created_at: tx.now(), policy: DEFAULT_POLICY, created: true };
  });
}

/** Sets a project's policy (admins only): who may write verification commands, whether done needs one to pass, the lease hold cap. */
export async function setPolicy(svc: Service, input: Inputs["setPolicy"]): Promise<Project> {
  const { project, agent: _agent, role, ...changes } = parse(inputs.setPolicy, input);
  if (role !== "admin") {
    throw new LedgerError("FORBIDDEN", `only admins may change the policy of project ${project}`, { hint: "ask an admin", details: { project, role } });
  }
  return svc.write(async (tx) => {
    const existing = await tx.getProject(project);
    if (!existing) throw projectNotFound(project, [], "create it first ({{op:createProject}}), then set its policy");
    const policy = mergePolicy(existing.policy, changes);
    await assertStagesFit(tx, existing.policy, policy, project);
    await tx.setProjectPolicy(project, policy);
    return { ...existing, policy };
  });
}

/** Every project with counts per status (or only `project`). */
export async function projects(svc: Service, input: Inputs["projects"] = {}): Promise<ProjectSummary[]> {
  const { project } = parse(inputs.projects, input);
  await svc.sweep(project ?? null);
  const all = await svc.store.read((tx) => tx.listProjects());
  return project === undefined ? all : all.filter((p) => p.name === project);
}
