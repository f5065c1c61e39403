/**
 * A work order's dependencies as an edit changes them: only other WOs of the
 * project, never itself, never a cycle (a WO in one could never be claimed),
 * and a dependency that is not done added or dropped only by its creator or
 * an admin.
 */
import { LedgerError } from "./errors.js";
import type { Tx } from "./port.js";
import * as rules from "./rules.js";
import type { Role, StoredWorkOrder } from "./types.js";

/** Throws unless `wo`'s dependencies may become `next` by `agent`'s edit. */
export async function assertDependencies(tx: Tx, wo: StoredWorkOrder, next: readonly number[], agent: string, role: Role | undefined): Promise<void> {
  const { project, id } = wo;
  if (next.includes(id))
    throw new LedgerError("VALIDATION", `depends_on: ${rules.label(id)} cannot depend on itself`, {
      hint: "name the work orders it waits for, not itself",
      details: { issues: [{ field: "depends_on", message: "names the work order itself" }] },
    });
  const dropped = wo.depends_on.filter((d) => !next.includes(d));
  if (dropped.length) rules.assertMayDropDependencies(wo, agent, role, await tx.notDoneOf(project, dropped));
  if (next.length === 0) return;
  const bad = await tx.missingOf(project, next);
  if (bad.length)
    throw new LedgerError("VALIDATION", `depends_on: ${bad.map(rules.label).join(", ")} is not another work order of project ${project}`, {
      hint: "name work orders of this project ({{op:list}} shows them); nothing was changed",
      details: { issues: [{ field: "depends_on", message: "unknown work order" }] },
    });
  // Adding one that is not done makes the WO wait, as dropping one lets it go early: the creator's or an admin's call
  // (issue 23, eleventh trials: a holder added an open WO to another's work, then could neither drop it nor finish).
  const added = next.filter((d) => !wo.depends_on.includes(d));
  const waits = added.length && role !== "admin" && agent !== wo.created_by ? await tx.notDoneOf(project, added) : [];
  if (waits.length)
    throw new LedgerError(
      "FORBIDDEN",
      `${agent} may not make ${rules.label(id)} wait on ${waits.map(rules.label).join(", ")}: not done yet, and only its creator (${wo.created_by}) or an admin may add such a dependency`,
      {
        hint: `{{op:release}} {{status=blocked}} with a note naming what it waits for: its creator (${wo.created_by}) or an admin sees it and may add the dependency`,
        details: { project, id, pending: waits, created_by: wo.created_by },
      },
    );
  const loop = await dependencyPath(tx, project, next, id);
  if (loop)
    throw new LedgerError("VALIDATION", `depends_on: would make a cycle ${[id, ...loop].map(rules.label).join(" → ")}`, {
      hint: "a work order in a dependency cycle can never be claimed",
      details: { issues: [{ field: "depends_on", message: "cycle" }] },
    });
}

/**
 * A dependency path from `from` back to `target` (which would close a cycle),
 * or null. Read without row locks: locking the graph could deadlock two
 * updates, and a cycle slipped in by a race only makes two WOs unclaimable.
 */
async function dependencyPath(tx: Tx, project: string, from: readonly number[], target: number): Promise<number[] | null> {
  const paths = new Map<number, number[]>(from.map((id) => [id, [id]]));
  let frontier = [...from];
  const seen = new Set<number>();
  while (frontier.length && seen.size < 10_000) {
    if (frontier.includes(target)) return paths.get(target) ?? null;
    frontier.forEach((id) => seen.add(id));
    const next: number[] = [];
    for (const { id, depends_on } of await tx.dependenciesOf(project, frontier)) {
      for (const d of depends_on) {
        if (seen.has(d) || paths.has(d)) continue;
        paths.set(d, [...(paths.get(id) ?? []), d]);
        next.push(d);
      }
    }
    frontier = next;
  }
  return null;
}
