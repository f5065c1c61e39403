/** claim, renew, release, update: the lease lifecycle. */
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import type { ClaimResult, Finished, RenewAllResult, Renewed } from "../../../core/ledger.js";
import type { WorkOrder } from "../../../core/types.js";
import type { Inputs } from "../../../core/schemas.js";
import { whoami, type Whoami } from "../../../core/whoami.js";
import { EXIT } from "../exit.js";
import { str, type Ctx, type Opts } from "../invocation.js";
import { livenessTtl } from "../../../core/liveness.js";
import { tokenMemoryOff } from "../lease-files.js";
import { currentSession } from "../sessions.js";
import { c, relative } from "../output.js";
import * as render from "../render.js";
import { flagGroup, IDEMPOTENCY_KEY, LEASE_TOKEN, QUEUE_FLAGS, queueOptions, registerOperation, WO_ID, type FlagSpec } from "../operation.js";
import { SPEND_FIGURES } from "./spend.js";
import { addFieldOptions, fieldsFrom } from "./fields.js";

const nonEmpty = (fields: Record<string, unknown>) => (Object.keys(fields).length ? fields : undefined);

const UNVERIFIED: FlagSpec = {
  help: "admins: finish as done without the passing verification the project requires, saying why",
  flag: "--unverified-reason <text>",
};

/** A TTL asked for inside a keep-alive session is held with the liveness TTL: the session renews it, and a session that dies lets it go soon. */
const heldInSession = (ttl: string | undefined) => (tokenMemoryOff() || currentSession() === undefined ? ttl : livenessTtl(ttl));

const renewedLine = (wo: WorkOrder) => `renewed ${render.woLabel(wo)}: expires ${relative(wo.lease?.expires_at ?? "")}`;

/** renew without --id, or with --all, renews every lease the caller holds in the project. */
function renewsAll(input: Record<string, unknown>, o: Opts): boolean {
  if (o.all === true && input.id !== undefined) {
    throw new LedgerError("VALIDATION", "id: give --id or --all, not both", { details: { issues: [{ field: "id", message: "given with --all" }] } });
  }
  return input.id === undefined;
}

/** release --tokens-in … : what the attempt cost, recorded as spend before the lease ends. */
const releaseSpend = flagGroup(SPEND_FIGURES, " (recorded as spend on the attempt this ends)");

export function register(program: Command): void {
  registerOperation<ClaimResult>(program, {
    op: "claim",
    description: "take a work order under an exclusive lease (first claim wins)",
    flags: {
      id: WO_ID,
      next: { help: "atomically take the most urgent unclaimed work order whose files nobody holds", flag: "--next" },
      ttl: {
        help: "lease length: 90s, 30m, 2h (1s to 7d); inside a keepalive --pid session, held at most 60s at a time while the session lives",
        flag: "--ttl <duration>",
        default: "30m",
        // A claim in a keep-alive session is held with the liveness TTL: the session renews it, and lets it go soon when it ends.
        read: (o) => heldInSession(str(o.ttl)),
      },
      exclusive_files: { help: "refuse when the files overlap a work order someone holds", flag: "--exclusive-files" },
      max_hold: { help: "renewals cannot keep this lease longer than this (e.g. 4h; default: the project's max hold, if any)", flag: "--max-hold <duration>" },
      idempotency_key: IDEMPOTENCY_KEY,
      ...QUEUE_FLAGS,
    },
    options: queueOptions,
    render: (wo) => ({ warnings: render.conflictLines(wo.file_conflicts), human: () => render.claimed(wo) }),
  });

  registerOperation<Renewed | RenewAllResult>(program, {
    op: "renew",
    description: "extend your live lease (without --id: every lease you hold in the project); an expired lease cannot be renewed (claim again)",
    flags: {
      id: WO_ID,
      ttl: {
        help: "new lease length from now (default: the lease's own length); inside a keepalive --pid session at most 60s (the session renews it)",
        flag: "--ttl <duration>",
        // As for claim: a session's lease stays short, so a session that dies lets it go soon, whatever was asked.
        read: (o) => (str(o.ttl) === undefined ? undefined : heldInSession(str(o.ttl))),
      },
      lease_token: LEASE_TOKEN,
      keepalive: { help: "a keep-alive's renewal: recorded on the work order, not in the event log", flag: "--keepalive" },
      idle_ms: { help: "with --keepalive: how long the agent has been idle (ms); past the project's idle limit the lease ends instead", flag: "--idle-ms <ms>", number: true },
      idempotency_key: IDEMPOTENCY_KEY,
    },
    options: (cmd) => cmd.option("--all", "renew every lease you hold in the project (the same as leaving out --id)"),
    alternate: { op: "renewAll", when: (input, o) => renewsAll(input, o) },
    // Its refusals are warnings, in the JSON too (SKILL.md: warnings go to stderr and a `warnings` field; nineteenth trials).
    output: (r) => ("renewed" in r && r.refused.length ? { ...r, warnings: r.refused.map((f) => `WO-${f.id}: ${f.error.message}`) } : r),
    render: (r) =>
      "renewed" in r
        ? {
            warnings: r.refused.map((f) => `WO-${f.id}: ${f.error.message}`),
            human: () => (r.renewed.length ? r.renewed.map(renewedLine).join("\n") : "you hold no lease to renew"),
            // One verdict whatever the refusals were (SKILL.md: 5, see `refused`; thirty-fourth trials: a budget's refusal exited 3).
            exitCode: r.refused.length ? EXIT.LEASE_LOST : 0,
          }
        : { warnings: r.warnings ?? [], human: () => renewedLine(r) },
  });

  registerOperation<Finished>(program, {
    op: "release",
    description: "end your lease; the work order returns to its prior status unless --status says otherwise",
    flags: {
      id: WO_ID,
      status: { help: "open|blocked|done, set in the same step", flag: "--status <status>" },
      stage: { help: "hand it on to this stage of the project's pipeline (open, for that stage's agents)", flag: "--stage <stage>" },
      note: { help: "note recorded with the release", flag: "--note <text>" },
      lease_token: LEASE_TOKEN,
      idempotency_key: IDEMPOTENCY_KEY,
      unverified_reason: UNVERIFIED,
      spend: { read: releaseSpend.read },
    },
    options: releaseSpend.declare,
    render: (wo) => ({ warnings: wo.warnings ?? [], human: () => `released ${render.woLabel(wo)}: now ${wo.status}` }),
  });

  const LAPSED: Record<Whoami["lapsed"][number]["why"], string> = {
    expired: "its lease expired unrenewed",
    idle: "idle past the project's idle limit while a keep-alive held it",
    max_hold: "it reached its hold cap (max_hold)",
  };
  registerOperation<Whoami & { from: Ctx["from"] }>(program, {
    op: "whoami",
    description: "who you are (your agent name, or your token's), your role, and the leases you hold (in the project, or everywhere)",
    flags: { can: QUEUE_FLAGS.can! },
    // The core's schema is the check (hence the cast).
    // Where the ledger and the project came from (a flag, a variable, the repository's .workledger, the default) is the CLI's to say.
    run: async (ledger, input, ctx) => ({ ...(await whoami(ledger, input as Inputs["whoami"])), from: ctx.from }),
    render: (me) => ({
      human: () =>
        [
          `${me.agent} (${me.role}${me.token_project ? `, project ${me.token_project}` : ""}), can: ${me.can.length ? me.can.join(", ") : "(no capabilities declared)"}`,
          `ledger ${me.ledger} (${me.from.ledger})${me.project ? `, project ${me.project} (${me.from.project})` : ""}`,
          ...me.leases.map((l) => `holds WO-${l.id} in ${l.project}: ${l.title}, expires ${relative(l.expires_at)}`),
          ...me.lapsed.map((l) => `lost WO-${l.id} in ${l.project} (token ${l.token}) ${relative(l.ended_at)}: ${LAPSED[l.why]}; claim it again only if it is still free`),
        ].join("\n"),
    }),
  });

  registerOperation<Finished>(program, {
    op: "update",
    description: "change fields and/or status; a holder's status change ends the lease in the same step",
    flags: {
      fields: { read: (o) => nonEmpty(fieldsFrom(o)) },
      id: WO_ID,
      status: { help: "open|blocked|done|cancelled", flag: "--status <status>" },
      stage: { help: "move it to this stage of the project's pipeline (the holder's lease ends: it waits for that stage's agents)", flag: "--stage <stage>" },
      note: { help: "note recorded with the update", flag: "--note <text>" },
      if_revision: { help: "only if the work order is still at this revision (compare-and-set)", flag: "--if-revision <n>", number: true },
      lease_token: LEASE_TOKEN,
      idempotency_key: IDEMPOTENCY_KEY,
      unverified_reason: UNVERIFIED,
    },
    options: addFieldOptions,
    render: (wo) => ({ warnings: wo.warnings ?? [], human: () => `updated ${render.woLabel(wo)} (revision ${wo.revision}): ${c.bold(wo.status)}` }),
  });
}
