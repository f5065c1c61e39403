/** Creating work orders and reading them: get, list, the queue, history. */
import * as rules from "../rules.js";
import { assertWithinCaps } from "../budget.js";
import { briefing } from "../context.js";
import { LedgerError } from "../errors.js";
import { conflicts } from "../file-conflicts.js";
import { OverlapChecker } from "../files.js";
import { once } from "../idempotency.js";
import { inputs, type Inputs, type Parsed } from "../schemas.js";
import { initialStage, queueFilter, stageOf } from "../stages.js";
import { batchItem, getOrNotFound, projectForWrite, requireProject } from "../steps.js";
import { CAP_FIELDS, type LedgerEvent, type WorkOrder } from "../types.js";
import { asOneItem, parse } from "../validate.js";
import { DEFAULT_POLICY, assertMayAuthor } from "../verification.js";
import type { Unclaimed, WorkOrderWithNotes } from "./results.js";
import { ACTIVE, DEFAULT_FIND_LIMIT, DEFAULT_LIST_LIMIT, checkpointsOf, type Service } from "./shared.js";

/** A create of one work order, validated: its errors name the fields as given (see asOneItem). */
function parseOne(input: Inputs["create"]): Parsed["create"] {
  try {
    return parse(inputs.create, input);
  } catch (e) {
    throw asOneItem(e);
  }
}

export async function create(svc: Service, input: Inputs["create"]): Promise<WorkOrder[]> {
  // One work order's fields are named as given (`priority`), a batch's by item (`items[2].priority`).
  const one = Array.isArray(input?.items) && input.items.length === 1;
  const c = one ? parseOne(input) : parse(inputs.create, input);
  const { project, agent, role, items, new_project } = c;
  const at = (i: number) => (one ? "" : `items[${i}].`);
  return svc.write(
    (tx) =>
      once(tx, "create", c, async () => {
        const now = tx.now();
        const proj = await projectForWrite(tx, project, new_project === true);
        if (items.some((i) => i.verification)) assertMayAuthor(proj?.policy ?? DEFAULT_POLICY, project, agent, role, null);
        for (const [i, item] of items.entries()) {
          const missing = await tx.missingOf(
            project,
            (item.depends_on ?? []).filter((d): d is number => typeof d === "number"),
          );
          if (missing.length) {
            throw new LedgerError("VALIDATION", `${at(i)}depends_on: ${missing.map(rules.label).join(", ")} does not exist in project ${project}`, {
              hint: "depend only on existing work orders of the same project, or on an earlier item of this batch as #N; nothing was written",
              details: { issues: [{ field: `${at(i)}depends_on`, message: "unknown work order" }], missing },
            });
          }
        }
        const caps = proj?.policy ?? DEFAULT_POLICY;
        items.forEach((item, i) => assertWithinCaps(item, caps, role, at(i)));
        const stages = items.map((item, i) => initialStage(caps, project, item.stage, `${at(i)}stage`));
        const first = await tx.allocateIds(project, items.length);
        const resolved = items.map((item, i) => ({
          ...item,
          depends_on: item.depends_on?.map((d) => (typeof d === "number" ? d : batchItem(d, i, first, `${at(i)}depends_on`))),
          // The project's budget defaults are copied in, so a WO's caps never change behind its back.
          ...Object.fromEntries(CAP_FIELDS.map((c) => [c, item[c] === undefined ? caps[c] : item[c]])),
        }));
        const created: WorkOrder[] = [];
        for (const [i, item] of resolved.entries()) {
          const { wo, event } = rules.create(project, first + i, item, agent, now, stages[i] ?? null, caps.branch_prefix);
          await tx.insertWorkOrder(wo);
          await tx.appendEvents([event]);
          created.push(rules.toPublic(wo));
        }
        return created;
      }),
    role,
  );
}

export async function get(svc: Service, input: Inputs["get"]): Promise<WorkOrderWithNotes> {
  const { project, id, git } = parse(inputs.get, input);
  await svc.sweep(project);
  return svc.store.read(async (tx) => {
    const wo = rules.effective(await getOrNotFound(tx, project, id), tx.now());
    const context = await briefing(tx, project, wo, git);
    return { ...rules.toPublic(wo), notes: await tx.listNotes(project, id), context, checkpoints: await checkpointsOf(tx, project, id) };
  });
}

export async function list(svc: Service, input: Inputs["list"]): Promise<WorkOrder[]> {
  const q = parse(inputs.list, input);
  await svc.sweep(q.project ?? null);
  const statuses = q.status === "all" ? undefined : q.status ? [q.status] : ACTIVE;
  return svc.store.read(async (tx) => {
    if (q.project !== undefined) await requireProject(tx, q.project);
    if (q.after !== undefined && q.project === undefined) {
      throw new LedgerError("VALIDATION", "after: pages one project at a time; give a project", { details: { issues: [{ field: "after", message: "needs a project" }] } });
    }
    const rows = await tx.listWorkOrders({ project: q.project, statuses, label: q.label, agent: q.agent, after: q.after, limit: q.limit ?? DEFAULT_LIST_LIMIT });
    return rows.map((w) => rules.toPublic(rules.effective(w, tx.now())));
  });
}

export async function findUnclaimed(svc: Service, input: Inputs["findUnclaimed"]): Promise<Unclaimed[]> {
  const q = parse(inputs.findUnclaimed, input);
  const { project, limit } = q;
  await svc.sweep(project);
  return svc.store.read(async (tx) => {
    const policy = (await requireProject(tx, project)).policy;
    if (q.stage !== undefined) stageOf(policy, project, q.stage);
    const rows = await tx.claimable(project, limit ?? DEFAULT_FIND_LIMIT, 0, queueFilter(q));
    const live = rows.some((w) => w.files.length) ? await tx.liveLeases(project, tx.now()) : [];
    const checker = new OverlapChecker();
    return rows.map((w) => ({ ...rules.toPublic(w), file_conflicts: conflicts(w, live, checker) }));
  });
}

export async function history(svc: Service, input: Inputs["history"]): Promise<LedgerEvent[]> {
  const h = parse(inputs.history, input);
  await svc.sweep(h.project);
  return svc.store.read(async (tx) => {
    await requireProject(tx, h.project);
    if (h.id !== undefined) await getOrNotFound(tx, h.project, h.id);
    // Limited without a cursor: the newest events (what an agent asking for "the last 5" means); with `after`, the next ones.
    return tx.listEvents(h.project, h.id ?? null, h.after ?? 0, h.limit ?? 1000, h.after === undefined && h.limit !== undefined);
  });
}
