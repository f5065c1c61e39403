/** create, get/show, list, find-unclaimed. */
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import type { ClaimResult, WorkOrderWithNotes } from "../../../core/ledger.js";
import type { WorkOrder } from "../../../core/types.js";
import type { WoCreateInput } from "../../../core/schemas.js";
import { num, str, type Opts } from "../invocation.js";
import { parseJson, readFileArg } from "../input.js";
import * as render from "../render.js";
import { NEW_PROJECT, QUEUE_FLAGS, queueOptions, registerOperation, WO_ID } from "../operation.js";
import { addFieldOptions, fieldsFrom } from "./fields.js";

export function register(program: Command): void {
  registerOperation<WorkOrder[]>(program, {
    op: "create",
    description: "create a work order from flags, or many at once from a JSON array (--from FILE, - for stdin)",
    flags: { items: { read: itemsFrom }, idempotency_key: { read: (o) => str(o.idempotencyKey) }, new_project: NEW_PROJECT },
    options: (cmd) =>
      addFieldOptions(
        cmd
          .option("--from <file>", "JSON array of work orders; all are created or none")
          .option("--stage <stage>", "the stage of the project's pipeline it starts in (default: the first)")
          .option("--idempotency-key <key>", "retrying with the same key returns the first result instead of creating twice"),
      ),
    // Created from flags: the one work order; from a file: all of them.
    output: (created, o) => (str(o.from) === undefined ? created[0] : created),
    render: (created) => ({
      human: () => (created.length === 1 ? `created ${render.woRows(created)}` : `created ${created.length} work orders\n${render.woRows(created)}`),
    }),
  });

  registerOperation<WorkOrderWithNotes>(program, {
    op: "get",
    description: "one work order with its notes",
    flags: { id: WO_ID },
    render: (wo) => ({ human: () => render.woDetail(wo) }),
  }).alias("show");

  const listLimit = (o: Opts) => num(o.limit) ?? 100;
  const holderFilter = (o: Opts, ctx: { flags: Opts }) => str(o.agent) ?? str(ctx.flags.agent);
  registerOperation<WorkOrder[]>(program, {
    op: "list",
    description: "work orders; by default all but done and cancelled (without -p: every project)",
    flags: {
      status: { help: "open|claimed|blocked|done|cancelled|all", flag: "--status <status>" },
      label: { help: "only with this label", flag: "--label <label>" },
      // `--agent` is also the global identity flag, which commander fills first: here it is the filter.
      agent: { help: "only those whose live lease this agent holds", flag: "--agent <name>", read: holderFilter },
      limit: { help: "at most this many (default 100, at most 1000)", flag: "--limit <n>", read: listLimit },
      after: { help: "only ids after this one: the last id of the previous page (with -p)", flag: "--after <id>", read: (o) => num(o.after) },
    },
    render: (wos, ctx, o) => ({
      warnings: [
        ...(wos.length === listLimit(o) ? [`showing ${listLimit(o)}; pass --limit for more, or --after ${wos.at(-1)?.id ?? 0} for the next page`] : []),
        // An agent told to pass --agent for its identity would otherwise read "nothing here" as an empty queue.
        ...(wos.length === 0 && holderFilter(o, ctx) ? [`none held by ${holderFilter(o, ctx)}: after list, --agent filters by lease holder; drop it to list every WO`] : []),
      ],
      human: () => render.woRows(wos, ctx.project === undefined),
    }),
  });

  registerOperation<ClaimResult[]>(program, {
    op: "findUnclaimed",
    description: "open work nobody holds whose dependencies are done, most urgent first",
    flags: { limit: { help: "at most this many (default 20)", flag: "--limit <n>", number: true }, ...QUEUE_FLAGS },
    options: queueOptions,
    render: (wos) => {
      const overlaps = wos.filter((w) => w.file_conflicts.length);
      return {
        human: () =>
          wos.length === 0
            ? "nothing unclaimed: all open work is taken or waiting on dependencies"
            : render.woRows(wos) +
              (overlaps.length ? "\n" + overlaps.flatMap((w) => render.conflictLines(w.file_conflicts).map((l) => `${render.woLabel(w)}: ${l}`)).join("\n") : ""),
      };
    },
  });
}

/** The work orders to create: the field flags as one, or the JSON array of --from (not both). */
function itemsFrom(o: Opts): WoCreateInput[] {
  const fields = fieldsFrom(o);
  const from = str(o.from);
  if (from !== undefined && (Object.keys(fields).length || o.stage !== undefined)) {
    throw new LedgerError("VALIDATION", "from: give either --from or field flags, not both", {
      hint: "put every field in the JSON file",
      details: { issues: [{ field: "from", message: "combined with field flags" }] },
    });
  }
  const stage = str(o.stage);
  const parsed = from === undefined ? [{ ...fields, ...(stage === undefined ? {} : { stage }) }] : parseJson(readFileArg(from, "from"), "from");
  return (from !== undefined && !Array.isArray(parsed) ? [parsed] : parsed) as WoCreateInput[];
}
