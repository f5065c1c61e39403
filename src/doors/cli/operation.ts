/**
 * CLI commands registered from the operation table (core/operations.ts): a
 * command names its operation and adds only what is the CLI's own, its
 * flags' spelling and help, and its human rendering. The input is assembled
 * the same way for every command (project and agent from the invocation, the
 * caller's git work tree where the operation records or compares it, each
 * flag under its field's name) and validated by the operation's schema in
 * the core; a test checks that every field of the schema has a flag.
 */
import type { Command } from "commander";
import type { LedgerApi } from "../../core/api.js";
import { callLedger, inputFields, OPERATIONS, resolve, type Operation } from "../../core/operations.js";
import { judgedOnBranches } from "../../core/freshness.js";
import type { GitState } from "../../core/types.js";
import { kebab } from "./hints.js";
import { gitState, headState, localRepository } from "./input.js";
import { finishHere, handoverHere } from "../finish-here.js";
import { worktreeOf } from "../../exec/worktree.js";
import { collect, commaList, identity, list, num, projectOf, str, type Ctx, type Opts, type Result } from "./invocation.js";
import { cliAction } from "./run.js";

export interface FlagSpec {
  /** Help for the field's flag; without it the field has no flag of its own (see `read`). */
  help?: string;
  /** The flag as typed, default `--<field in kebab-case> <value>`; a flag without `<…>` is a switch. */
  flag?: string;
  default?: string;
  /** Whole numbers are passed as numbers (ids, limits, tokens); everything else as typed. */
  number?: boolean;
  /** The flag must be given (commander says so before anything runs). */
  required?: boolean;
  /**
   * Reads the value from the command's options or arguments instead (a body
   * from -m, --body-file or stdin; the WO field flags; a project named as an
   * argument). It may also replace a field the door fills.
   */
  read?: (o: Opts, ctx: Ctx, args: string[]) => unknown;
}

export interface OperationCommand<R> {
  /** The operation of the table this command runs. */
  op: string;
  /** The command's name (default: the operation's in kebab-case). */
  name?: string;
  description: string;
  /** A flag for every input field the caller gives (the door fills project, agent, role and git). */
  flags: Readonly<Record<string, FlagSpec>>;
  /** Options that are not one field's flag (read by a field's `read`, or by `render`). */
  options?: (cmd: Command) => Command;
  /** The result for people (and warnings, an exit code); --json prints `output`, by default the result itself. */
  render(result: R, ctx: Ctx, o: Opts): Omit<Result, "data">;
  output?: (result: R, o: Opts) => unknown;
  /** How a `local` operation runs here (verify runs a command on this machine), or how this command runs when `runWhen` says so. */
  run?: (ledger: LedgerApi, input: Record<string, unknown>, ctx: Ctx, o: Opts) => Promise<R>;
  /** For an operation that is not local: when the command runs `run` instead (spend --from-transcript reads a file, then reports through the operation). */
  runWhen?: (o: Opts) => boolean;
  /** Another operation this command runs when `when` says so (renew without --id renews every lease: renewAll); it gets the input's fields it has. */
  alternate?: { op: string; when: (input: Record<string, unknown>, o: Opts) => boolean };
}

/** The work-order id flag most commands take. */
export const WO_ID: FlagSpec = { help: "work order id (53 or WO-53)", flag: "--id <id>", number: true };

/** The lease token flag of every holder write (renew, release, update, verify). */
export const LEASE_TOKEN: FlagSpec = {
  help: "fencing token from your claim (remembered for you; WORKLEDGER_TOKEN_MEMORY=off turns that off); a stale token is rejected",
  flag: "--lease-token <n>",
  number: true,
};

/** Every write's idempotency key: a retry with the same key and input gets the first result (a lost reply is safe to retry). */
export const IDEMPOTENCY_KEY: FlagSpec = {
  help: "a retry with the same key (and the same input) returns the first result instead of acting twice; keys count for 24h",
  flag: "--idempotency-key <key>",
};

/** A write's switch to create a project whose name is close to an existing one (a typo is refused without it). */
export const NEW_PROJECT: FlagSpec = { help: "create the project even though its name is close to an existing one's", flag: "--new-project" };

/** Input fields the CLI fills itself instead of taking them as the command's flags (an actor's agent is its identity). */
export const filledByDoor = (op: Operation): string[] => ["project", "role", "git", "finished_in", ...(op.actor ? ["agent"] : [])];

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

export function operationOf(name: string): Operation {
  const op = OPERATIONS.find((o) => o.name === name);
  if (!op) throw new Error(`no operation ${name} in the table`);
  return op;
}

/** The commands registered from the table, by command (`find-unclaimed`, `create <name>` under `project`), for the test that holds them to the table. */
export const REGISTERED = new Map<string, { op: Operation; flags: readonly string[] }>();

export function registerOperation<R>(program: Command, spec: OperationCommand<R>): Command {
  const op = operationOf(spec.op);
  const name = spec.name ?? kebab(op.name);
  // Keyed by the whole command (`webhook list` is not `list`).
  const key = program.parent ? `${program.name()} ${name}` : name;
  REGISTERED.set(key, { op, flags: Object.keys(spec.flags) });
  const alt = spec.alternate && { ...spec.alternate, op: operationOf(spec.alternate.op) };
  // The alternate's flags are those its input has; computed when read (by the test), so start-up builds no extra schema.
  if (alt)
    REGISTERED.set(`${key} (${alt.op.name})`, {
      op: alt.op,
      get flags() {
        return Object.keys(spec.flags).filter((f) => f in inputFields(alt.op));
      },
    });
  const cmd = program.command(name).description(spec.description);
  for (const [field, f] of Object.entries(spec.flags)) {
    if (f.help === undefined) continue;
    const flag = f.flag ?? `--${kebab(field)} <${kebab(field)}>`;
    if (f.required) cmd.requiredOption(flag, f.help);
    else if (f.default === undefined) cmd.option(flag, f.help);
    else cmd.option(flag, f.help, f.default);
  }
  spec.options?.(cmd);
  return cmd.action(
    cliAction(async (o, ctx, args) => {
      let input = inputOf(op, spec.flags, o, ctx, args);
      const ledger = await ctx.ledger();
      // Context about a WO is stamped with the caller's worktree for it, where the work is, when it stands elsewhere (fourteenth trials).
      const tree = op.name === "contextPut" ? await worktreeOf(ledger, input) : undefined;
      if (tree !== undefined) input.git = gitState(tree, true);
      else if (op.name === "contextPut") await handoverHere(ledger, input, localRepository());
      if (op.name === "release" || op.name === "update") await finishHere(ledger, input, localRepository());
      let target = resolve(op, input);
      if (alt?.when(input, o)) {
        const fields = inputFields(alt.op);
        input = Object.fromEntries(Object.entries(input).filter(([k]) => k in fields));
        target = alt.op;
      }
      const runHere = spec.run && (op.local || spec.runWhen?.(o));
      const answer = runHere ? await spec.run!(ledger, input, ctx, o) : ((await callLedger(ledger, target, input)) as R);
      // Context saved on another branch is judged against that branch here too (the ledger cannot see this repository).
      const result = op.callerGit && op.name !== "contextPut" ? judgedOnBranches(answer, input.git as GitState | null, localRepository()) : answer;
      return { data: spec.output ? spec.output(result, o) : result, ...spec.render(result, ctx, o) };
    }),
  );
}

/** The options key commander gives a flag: `--lease-token <n>` is `leaseToken`. */
const attribute = (flag: string) => camel((/--([a-z0-9-]+)/.exec(flag)?.[1] ?? "").replace(/-/g, "_"));

function inputOf(op: Operation, flags: Readonly<Record<string, FlagSpec>>, o: Opts, ctx: Ctx, args: string[]): Record<string, unknown> {
  // An unset project or agent is passed on as nothing: the core's schema names what is missing.
  const input: Record<string, unknown> = op.everyProject ? {} : { project: projectOf(ctx) };
  if (op.actor) Object.assign(input, { agent: identity(ctx), role: ctx.role });
  // Recorded with what is written (context-put) it is the whole state; only judged against (claim, get), HEAD and branch.
  if (op.callerGit) input.git = op.name === "contextPut" ? gitState(process.cwd(), true) : headState();
  for (const [field, f] of Object.entries(flags)) {
    const value = f.read ? f.read(o, ctx, args) : flagValue(field, f, o);
    if (value !== undefined || f.read) input[field] = value;
  }
  return input;
}

/** A flag's value as typed (a switch is true or absent; whole-number flags are numbers). */
function flagValue(field: string, f: FlagSpec, o: Opts): unknown {
  const v = o[attribute(f.flag ?? `--${kebab(field)}`)];
  return f.flag !== undefined && !f.flag.includes("<") ? (v === true ? true : undefined) : f.number ? num(v) : str(v);
}

/** Flags that together make one input field (release's `spend`): declares them on `cmd` and reads them into an object, or undefined when none was given. */
export function flagGroup(flags: Readonly<Record<string, FlagSpec>>, suffix = "") {
  return {
    declare: (cmd: Command) => Object.entries(flags).reduce((c, [field, f]) => c.option(f.flag ?? `--${kebab(field)} <${kebab(field)}>`, `${f.help ?? ""}${suffix}`), cmd),
    read: (o: Opts, ctx: Ctx, args: string[]) => {
      const values = Object.entries(flags).flatMap(([field, f]) => {
        const v = f.read ? f.read(o, ctx, args) : flagValue(field, f, o);
        return v === undefined ? [] : [[field, v] as const];
      });
      return values.length ? Object.fromEntries(values) : undefined;
    },
  };
}

/** The caller's capabilities: --can, else WORKLEDGER_CAN (comma-separated); none declared: undefined. */
export function declaredCan(o: Opts): string[] | undefined {
  return commaList(o.can ?? (process.env.WORKLEDGER_CAN || undefined));
}

/** claim --next's and find-unclaimed's filters: which free work the caller wants, and what it can do (with queueOptions). */
export const QUEUE_FLAGS: Readonly<Record<string, FlagSpec>> = {
  stage: { help: "only work in this stage of the project's pipeline", flag: "--stage <stage>" },
  labels: { read: (o) => list(o.label) },
  can: { help: "your capabilities, comma-separated (default: WORKLEDGER_CAN); work that requires others is left out", flag: "--can <capabilities>", read: declaredCan },
  any: { help: "also work that requires capabilities you did not declare", flag: "--any" },
};
/** The queue flags commander cannot declare from a FlagSpec (a repeatable, comma-separated --label). */
export const queueOptions = (cmd: Command) => cmd.option("--label <label>", "only work with any of these labels (repeatable, or comma-separated)", collect);
