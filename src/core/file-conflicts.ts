/**
 * Same-file protection (DESIGN.md §4): which live leases touch the files of a
 * WO. The policy: a claim lists them as a warning; claim with
 * exclusive_files refuses (FILE_CONFLICT); claim next skips such WOs. An
 * overlap the checker could not decide within its budget counts as one.
 */
import { LedgerError } from "./errors.js";
import { UNKNOWN_REASON, type OverlapChecker } from "./files.js";
import { label } from "./rules.js";
import type { FileConflict, StoredWorkOrder } from "./types.js";

/** Live leases whose files may overlap `wo`'s; an overlap the checker could not decide is listed as unknown. */
export function conflicts(wo: StoredWorkOrder, live: readonly StoredWorkOrder[], checker: OverlapChecker): FileConflict[] {
  if (wo.files.length === 0) return [];
  const found: FileConflict[] = [];
  for (const o of live) {
    if (o.id === wo.id || o.lease === null) continue;
    const overlap = checker.files(wo.files, o.files);
    if (overlap === "no") continue;
    found.push({
      id: o.id,
      title: o.title,
      agent: o.lease.agent,
      expires_at: o.lease.expires_at,
      files: o.files,
      ...(overlap === "unknown" ? { overlap, reason: UNKNOWN_REASON } : {}),
    });
  }
  return found;
}

export function fileConflict(wo: StoredWorkOrder, found: FileConflict[]): LedgerError {
  const held = found.map((c) => `${label(c.id)} (${c.agent}${c.overlap === "unknown" ? ", overlap unknown: patterns too complex to compare" : ""})`);
  return new LedgerError("FILE_CONFLICT", `${label(wo.id)} touches files held under ${held.join(", ")}`, {
    hint: "pick another work order ({{op:findUnclaimed}}), or {{op:claim}} without {{exclusive_files}} to accept the overlap",
    details: { project: wo.project, id: wo.id, file_conflicts: found },
  });
}
