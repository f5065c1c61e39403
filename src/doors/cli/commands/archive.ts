/** export, import and prune: a ledger as JSON Lines, to move it between stores or keep what is removed (issue 29). */
import { createReadStream, createWriteStream, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import type { PruneSummary } from "../../../core/service/retention.js";
import { openArchive } from "../../archive-file.js";
import { withLocal } from "../connect.js";
import { str } from "../invocation.js";
import { c } from "../output.js";
import { cliAction } from "../run.js";

/** The longest line import reads (a WO with its whole history of checkpoints fits many times over). */
const MAX_LINE = 64 << 20;

export function register(program: Command): void {
  program
    .command("export")
    .description(
      "write the ledger (or one project with --project) as JSON Lines: a header naming the schema, the tokens' records (never a secret), then each project with its work orders, attempts, notes, spend, context and events; an admin's act (--as-admin)",
    )
    .option("--out <file>", "write to this file (whole or not at all) instead of standard output")
    .addHelpText("after", "\nMove a laptop's ledger to a team server:\n  workledger export --as-admin | workledger import --as-admin --database-url postgres://…/workledger\n")
    .action(
      cliAction(async (o, ctx) => {
        const file = str(o.out);
        const partial = file === undefined ? undefined : `${file}.partial`;
        const sink = partial === undefined ? process.stdout : createWriteStream(partial, { mode: 0o600 });
        try {
          // --project as typed: a default project from the environment must not narrow a whole-ledger export.
          const summary = await withLocal(ctx, (ledger) =>
            ledger.exportLedger({ project: str(ctx.flags.project), role: ctx.role }, (line) => put(sink, JSON.stringify(line) + "\n")),
          );
          if (partial !== undefined) {
            await close(sink);
            renameSync(partial, file!);
          }
          process.stderr.write(c.dim(`exported ${summary.projects} project(s), ${summary.lines} lines${file ? ` to ${file}` : ""}\n`));
          return { data: undefined, human: () => "" };
        } catch (e) {
          if (partial !== undefined) {
            sink.destroy();
            rmSync(partial, { force: true });
          }
          throw e;
        }
      }),
    );

  registerPrune(program);
  program
    .command("backup <file>")
    .description(
      "copy a SQLite ledger to a new file while agents keep writing (SQLite's online backup: one consistent moment), checked before it is given its name; an admin's act (--as-admin). PostgreSQL: see the README's Backups",
    )
    .addHelpText(
      "after",
      "\nBack up, then check the copy:\n  workledger backup --as-admin ~/backups/ledger-2026-12-06.db\n  WORKLEDGER_DB=~/backups/ledger-2026-12-06.db workledger doctor\n",
    )
    .action(
      cliAction(async (_o, ctx, args) => {
        const file = resolve(args[0] as string);
        const r = await withLocal(ctx, (ledger) =>
          ledger.backup({ file, role: ctx.role }, (bytes) => process.stderr.write(c.dim(`copying ${ledger.info.location} (${megabytes(bytes)})…\n`))),
        );
        return { data: r, human: () => `backed up to ${r.file} (${megabytes(r.bytes)}, integrity ok)` };
      }),
    );
  program
    .command("import [file]")
    .description(
      "load an export (a file, or standard input) into this ledger: tokens, then each project in one transaction, into projects that are new or empty here; ids, lease tokens, revisions and times are kept; an admin's act (--as-admin)",
    )
    .action(
      cliAction(async (_o, ctx, args) => {
        const file = args[0] as string | undefined;
        const input = file === undefined || file === "-" ? process.stdin : createReadStream(file);
        const r = await withLocal(ctx, (ledger) => ledger.importLedger({ role: ctx.role }, linesOf(input)));
        return {
          data: r,
          human: () =>
            [
              ...r.projects.map((p) => `imported ${p.name}: ${p.work_orders} work order(s), ${p.events} event(s), ${p.lines} line(s)`),
              r.tokens ? `imported ${r.tokens} token(s)` : "",
            ]
              .filter(Boolean)
              .join("\n") || c.dim("the export held no project"),
        };
      }),
    );
}

function registerPrune(program: Command): void {
  program
    .command("prune")
    .description(
      "remove the history (events, notes, linked context, spend records) of work orders finished (done or cancelled) longer ago than --before, keeping each one's final state, its attempts and its spend folded per attempt and day, so reports still add up; what it removes is written to --archive first (an export that import can load); open, claimed and blocked work orders are never touched; an admin's act (--as-admin)",
    )
    .option("--before <duration>", "finished longer ago than this, e.g. 180d")
    .option("--archive <file>", "a new file: what is removed is written there first")
    .addHelpText("after", "\nKeep half a year:\n  workledger prune --as-admin --before 180d --archive ledger-2026-06.jsonl\n")
    .action(
      cliAction(async (o, ctx) => {
        const file = str(o.archive);
        if (file === undefined)
          throw new LedgerError("VALIDATION", "--archive is required: prune writes what it removes there first", {
            hint: "give a new file, e.g. --archive pruned.jsonl (workledger import loads it into an empty ledger)",
            details: { issues: [{ field: "archive", message: "required" }] },
          });
        const archive = openArchive(file);
        try {
          const r = await withLocal(ctx, (ledger) => ledger.prune({ project: str(ctx.flags.project), before: str(o.before) as string, role: ctx.role }, archive.write));
          return { data: { ...r, archive: file }, human: () => pruneText(r, file) };
        } finally {
          archive.close();
        }
      }),
    );
}

function pruneText(r: PruneSummary, file: string): string {
  if (r.projects.length === 0) return c.dim(`nothing to prune: no work order finished before ${r.before} still has its history`);
  return [
    ...r.projects.map(
      (p) =>
        `pruned ${p.name}: ${p.work_orders} work order(s) finished before ${r.before}: ${p.events} event(s), ${p.notes} note(s), ${p.context} context entr${p.context === 1 ? "y" : "ies"}, ${p.spend} spend record(s) (kept as ${p.spend_kept})`,
    ),
    c.dim(`what was removed is in ${file} (${r.lines} lines; workledger import loads it into an empty ledger)`),
  ].join("\n");
}

const megabytes = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;

/** Writes a chunk, waiting while the stream's buffer is full (a slow pipe must not fill memory). */
function put(out: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.write(text)) return resolve();
    const fail = (e: Error) => reject(e);
    out.once("error", fail);
    out.once("drain", () => {
      out.off("error", fail);
      resolve();
    });
  });
}

function close(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** The stream's lines, none longer than MAX_LINE. */
async function* linesOf(input: Readable): AsyncGenerator<string> {
  input.setEncoding("utf8"); // a character split between two chunks stays whole
  let rest = "";
  for await (const chunk of input as AsyncIterable<string>) {
    rest += chunk;
    let start = 0;
    for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n", start)) {
      yield rest.slice(start, nl);
      start = nl + 1;
    }
    rest = rest.slice(start);
    if (rest.length > MAX_LINE)
      throw new LedgerError("VALIDATION", `a line of the export is longer than ${MAX_LINE >> 20} MB`, {
        hint: "give the file workledger export wrote, unchanged",
        details: { issues: [{ field: "file", message: "line too long" }] },
      });
  }
  if (rest !== "") yield rest;
}
