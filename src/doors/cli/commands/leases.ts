/** claim, renew, release, update: the lease lifecycle. */
import type { Command } from "commander";
import type { ClaimResult } from "../../../core/ledger.js";
import type { WorkOrder } from "../../../core/types.js";
import { c, relative } from "../output.js";
import * as render from "../render.js";
import { registerOperation, WO_ID } from "../operation.js";
import { addFieldOptions, fieldsFrom } from "./fields.js";

const nonEmpty = (fields: Record<string, unknown>) => (Object.keys(fields).length ? fields : undefined);

const TOKEN = "fencing token from your claim; a stale token is rejected";

export function register(program: Command): void {
  registerOperation<ClaimResult>(program, {
    op: "claim",
    description: "take a work order under an exclusive lease (first claim wins)",
    flags: {
      id: WO_ID,
      next: { help: "atomically take the most urgent unclaimed work order whose files nobody holds", flag: "--next" },
      ttl: { help: "lease length: 90s, 30m, 2h (1s to 7d)", flag: "--ttl <duration>", default: "30m" },
      exclusive_files: { help: "refuse when the files overlap a work order someone holds", flag: "--exclusive-files" },
    },
    render: (wo) => ({ warnings: render.conflictLines(wo.file_conflicts), human: () => render.claimed(wo) }),
  });

  registerOperation<WorkOrder>(program, {
    op: "renew",
    description: "extend your live lease; an expired lease cannot be renewed (claim again)",
    flags: {
      id: WO_ID,
      ttl: { help: "new lease length from now", flag: "--ttl <duration>", default: "30m" },
      lease_token: { help: TOKEN, flag: "--lease-token <n>", number: true },
    },
    render: (wo) => ({ human: () => `renewed ${render.woLabel(wo)}: expires ${relative(wo.lease?.expires_at ?? "")}` }),
  });

  registerOperation<WorkOrder>(program, {
    op: "release",
    description: "end your lease; the work order returns to its prior status unless --status says otherwise",
    flags: {
      id: WO_ID,
      status: { help: "open|blocked|done, set in the same step", flag: "--status <status>" },
      note: { help: "note recorded with the release", flag: "--note <text>" },
      lease_token: { help: TOKEN, flag: "--lease-token <n>", number: true },
    },
    render: (wo) => ({ human: () => `released ${render.woLabel(wo)}: now ${wo.status}` }),
  });

  registerOperation<WorkOrder>(program, {
    op: "update",
    description: "change fields and/or status; a holder's status change ends the lease in the same step",
    flags: {
      fields: { read: (o) => nonEmpty(fieldsFrom(o)) },
      id: WO_ID,
      status: { help: "open|blocked|done|cancelled", flag: "--status <status>" },
      note: { help: "note recorded with the update", flag: "--note <text>" },
      if_revision: { help: "only if the work order is still at this revision (compare-and-set)", flag: "--if-revision <n>", number: true },
      lease_token: { help: TOKEN, flag: "--lease-token <n>", number: true },
    },
    options: addFieldOptions,
    render: (wo) => ({ human: () => `updated ${render.woLabel(wo)} (revision ${wo.revision}): ${c.bold(wo.status)}` }),
  });
}
