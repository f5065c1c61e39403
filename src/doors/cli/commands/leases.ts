/** claim, renew, release, update: the lease lifecycle. */
import type { Command } from "commander";
import type { Inputs } from "../../../core/schemas.js";
import { identity, num, projectOf, str } from "../invocation.js";
import { c, relative } from "../output.js";
import * as render from "../render.js";
import { cliAction } from "../run.js";
import { addFieldOptions, fieldsFrom } from "./fields.js";

const ID = "work order id (53 or WO-53)";
const TOKEN = "fencing token from your claim; a stale token is rejected";

export function register(program: Command): void {
  program
    .command("claim")
    .description("take a work order under an exclusive lease (first claim wins)")
    .option("--id <id>", ID)
    .option("--next", "atomically take the most urgent unclaimed work order whose files nobody holds")
    .option("--ttl <duration>", "lease length: 90s, 30m, 2h (1s to 7d)", "30m")
    .option("--exclusive-files", "refuse when the files overlap a work order someone holds")
    .action(
      cliAction(async (o, ctx) => {
        const input = {
          project: projectOf(ctx),
          agent: identity(ctx),
          ttl: str(o.ttl),
          id: num(o.id),
          next: o.next === true ? true : undefined,
          ...(o.exclusiveFiles ? { exclusive_files: true } : {}),
        } as Inputs["claim"];
        const wo = await (await ctx.ledger()).claim(input);
        return { data: wo, warnings: render.conflictLines(wo.file_conflicts), human: () => render.claimed(wo) };
      }),
    );

  program
    .command("renew")
    .description("extend your live lease; an expired lease cannot be renewed (claim again)")
    .option("--id <id>", ID)
    .option("--ttl <duration>", "new lease length from now", "30m")
    .option("--lease-token <n>", TOKEN)
    .action(
      cliAction(async (o, ctx) => {
        const wo = await (
          await ctx.ledger()
        ).renew({ project: projectOf(ctx), agent: identity(ctx), id: num(o.id) as number, ttl: str(o.ttl), lease_token: num(o.leaseToken) as number | undefined });
        return { data: wo, human: () => `renewed ${render.woLabel(wo)}: expires ${relative(wo.lease?.expires_at ?? "")}` };
      }),
    );

  program
    .command("release")
    .description("end your lease; the work order returns to its prior status unless --status says otherwise")
    .option("--id <id>", ID)
    .option("--status <status>", "open|blocked|done, set in the same step")
    .option("--note <text>", "note recorded with the release")
    .option("--lease-token <n>", TOKEN)
    .action(
      cliAction(async (o, ctx) => {
        const input = {
          project: projectOf(ctx),
          agent: identity(ctx),
          id: num(o.id),
          status: str(o.status),
          note: str(o.note),
          lease_token: num(o.leaseToken),
        } as Inputs["release"];
        const wo = await (await ctx.ledger()).release(input);
        return { data: wo, human: () => `released ${render.woLabel(wo)}: now ${wo.status}` };
      }),
    );

  addFieldOptions(
    program
      .command("update")
      .description("change fields and/or status; a holder's status change ends the lease in the same step")
      .option("--id <id>", ID)
      .option("--status <status>", "open|blocked|done|cancelled")
      .option("--note <text>", "note recorded with the update")
      .option("--if-revision <n>", "only if the work order is still at this revision (compare-and-set)")
      .option("--lease-token <n>", TOKEN),
  ).action(
    cliAction(async (o, ctx) => {
      const fields = fieldsFrom(o);
      const input = {
        project: projectOf(ctx),
        agent: identity(ctx),
        id: num(o.id),
        ...(Object.keys(fields).length ? { fields } : {}),
        status: str(o.status),
        note: str(o.note),
        if_revision: num(o.ifRevision),
        lease_token: num(o.leaseToken),
      } as Inputs["update"];
      const wo = await (await ctx.ledger()).update(input);
      return { data: wo, human: () => `updated ${render.woLabel(wo)} (revision ${wo.revision}): ${c.bold(wo.status)}` };
    }),
  );
}
