/** create, get/show, list, find-unclaimed. */
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import type { ClaimResult, WorkOrderWithNotes } from "../../../core/ledger.js";
import type { Inputs, WoCreateInput } from "../../../core/schemas.js";
import { identity, num, projectOf, str } from "../invocation.js";
import { parseJson, readFileArg } from "../input.js";
import * as render from "../render.js";
import { registerOperation } from "../operation.js";
import { cliAction } from "../run.js";
import { addFieldOptions, fieldsFrom } from "./fields.js";

export function register(program: Command): void {
  addFieldOptions(
    program
      .command("create")
      .description("create a work order from flags, or many at once from a JSON array (--from FILE, - for stdin)")
      .option("--from <file>", "JSON array of work orders; all are created or none")
      .option("--idempotency-key <key>", "retrying with the same key returns the first result instead of creating twice"),
  ).action(
    cliAction(async (o, ctx) => {
      const fields = fieldsFrom(o);
      const from = str(o.from);
      if (from !== undefined && Object.keys(fields).length) {
        throw new LedgerError("VALIDATION", "from: give either --from or field flags, not both", {
          hint: "put every field in the JSON file",
          details: { issues: [{ field: "from", message: "combined with field flags" }] },
        });
      }
      const parsed = from === undefined ? [fields] : parseJson(readFileArg(from, "from"), "from");
      const items = (from !== undefined && !Array.isArray(parsed) ? [parsed] : parsed) as WoCreateInput[];
      const key = str(o.idempotencyKey);
      const created = await (await ctx.ledger()).create({ project: projectOf(ctx), agent: identity(ctx), items, ...(key ? { idempotency_key: key } : {}) });
      const data = from === undefined ? created[0] : created;
      return { data, human: () => (created.length === 1 ? `created ${render.woRows(created)}` : `created ${created.length} work orders\n${render.woRows(created)}`) };
    }),
  );

  registerOperation<WorkOrderWithNotes>(program, {
    op: "get",
    description: "one work order with its notes",
    flags: { id: { help: "work order id (53 or WO-53)", flag: "--id <id>", number: true } },
    render: (wo) => ({ human: () => render.woDetail(wo) }),
  }).alias("show");

  program
    .command("list")
    .description("work orders; by default all but done and cancelled (without -p: every project)")
    .option("--status <status>", "open|claimed|blocked|done|cancelled|all")
    .option("--label <label>", "only with this label")
    .option("--agent <name>", "only those whose live lease this agent holds")
    .option("--limit <n>", "at most this many (default 100)")
    .action(
      cliAction(async (o, ctx) => {
        const limit = num(o.limit) ?? 100;
        // `--agent` is also the global identity flag, which commander fills first: here it is the filter.
        const input = { status: str(o.status), label: str(o.label), agent: str(o.agent) ?? str(ctx.flags.agent), limit, project: ctx.project } as Inputs["list"];
        const wos = await (await ctx.ledger()).list(input);
        const warnings = wos.length === limit ? [`showing the first ${limit}; pass --limit for more`] : [];
        return { data: wos, warnings, human: () => render.woRows(wos, ctx.project === undefined) };
      }),
    );

  registerOperation<ClaimResult[]>(program, {
    op: "findUnclaimed",
    description: "open work nobody holds whose dependencies are done, most urgent first",
    flags: { limit: { help: "at most this many (default 20)", flag: "--limit <n>", number: true } },
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
