/**
 * `prune` (issue 29): removes the history of WOs finished long ago (their
 * events, notes, linked context and spend records), keeping each WO's final
 * state, its attempts and its spend folded per attempt and day (core/retention.ts),
 * so reports still add up. What it removes is handed to `archive` first, as
 * export lines (importable into an empty ledger), inside the transaction that
 * removes it: a batch is gone only once its lines are written. Open, claimed
 * and blocked WOs are never touched.
 */
import { compactSpend } from "../retention.js";
import type { PrunedCounts, Tx } from "../port.js";
import { requireProject } from "../steps.js";
import { assertAdmin } from "../tokens.js";
import { inputs, type Inputs } from "../schemas.js";
import { parse } from "../validate.js";
import { ARCHIVE_FORMAT, ARCHIVE_VERSION, NOT_EXPORTED, PAGE, paged, type ArchiveLine } from "./archive.js";
import { MAX_ROWS, type Service } from "./shared.js";

/** WOs pruned in one transaction (what the archive holds in memory at once). */
const BATCH = 50;

export interface PruneSummary {
  /** WOs finished (last changed) before this time were pruned. */
  before: string;
  projects: ({ name: string; work_orders: number; spend_kept: number } & PrunedCounts)[];
  /** Lines written to the archive. */
  lines: number;
}

export async function prune(svc: Service, raw: Inputs["prune"], archive: (lines: ArchiveLine[]) => Promise<void>): Promise<PruneSummary> {
  const input = parse(inputs.prune, raw);
  assertAdmin(input.role, "prune the ledger", "it removes finished work orders' history for good (the archive keeps it)");
  const { names, now } = await svc.store.read(async (tx) => ({
    names: input.project === undefined ? (await tx.projectNames()).sort() : [(await requireProject(tx, input.project)).name],
    now: tx.now(),
  }));
  const before = new Date(Date.parse(now) - input.before).toISOString();
  let lines = 0;
  const put = async (batch: ArchiveLine[]) => {
    lines += batch.length;
    await archive(batch);
  };
  const { kind, schema_version } = svc.store.info;
  await put([
    {
      type: "header",
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      schema: schema_version,
      store: kind,
      exported_at: now,
      projects: names,
      not_exported: NOT_EXPORTED,
      pruned_before: before,
    },
  ]);
  const summary: PruneSummary = { before, projects: [], lines: 0 };
  for (const name of names) {
    const done = { name, work_orders: 0, events: 0, notes: 0, context: 0, spend: 0, spend_kept: 0 };
    for (;;) {
      const pruned = await svc.store.write(async (tx) => {
        const ids = await tx.prunable(name, before, BATCH);
        if (ids.length === 0) return null;
        const { records, spend } = await historyOf(tx, name, ids);
        await put(done.work_orders === 0 ? [{ type: "project", record: await requireProject(tx, name) }, ...records] : records);
        const removed = await tx.pruneHistory(name, ids);
        const kept = compactSpend(spend);
        for (const s of kept) await tx.insertSpend(s);
        return { ids, removed, kept: kept.length };
      });
      if (pruned === null) break;
      done.work_orders += pruned.ids.length;
      for (const k of ["events", "notes", "context", "spend"] as const) done[k] += pruned.removed[k];
      done.spend_kept += pruned.kept;
    }
    if (done.work_orders > 0) summary.projects.push(done);
  }
  await put([{ type: "end", projects: summary.projects.length, lines: lines + 1 }]);
  return { ...summary, lines };
}

/** Everything the ledger holds about these WOs, as export lines, and their spend records. */
async function historyOf(tx: Tx, project: string, ids: readonly number[]) {
  const records: ArchiveLine[] = [];
  const spend: (ArchiveLine & { type: "spend" })["record"][] = [];
  for (const id of ids) {
    records.push({ type: "work_order", record: (await tx.getWorkOrder(project, id))! });
    for (const a of await tx.listAttempts({ project, wo: id, limit: MAX_ROWS })) records.push({ type: "attempt", record: a });
    for (const { id: _id, ...n } of await tx.listNotes(project, id)) records.push({ type: "note", record: n });
    for (const { id: _id, ...s } of await tx.listSpend({ project, wo: id, limit: MAX_ROWS })) {
      records.push({ type: "spend", record: s });
      spend.push(s);
    }
    for (const { id: _id, ...c } of (await tx.contextHistory(project, null, MAX_ROWS, id)).reverse()) records.push({ type: "context", record: c });
    for await (const { seq: _seq, ...e } of paged(
      (after) => tx.listEvents(project, id, after, PAGE),
      (e) => e.seq,
    ))
      records.push({ type: "event", record: e });
  }
  return { records, spend };
}
