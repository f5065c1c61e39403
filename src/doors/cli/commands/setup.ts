/** init, doctor, project create, projects. */
import { statSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import { isLedgerError, type LedgerError } from "../../../core/errors.js";
import { renderHint } from "../../../core/hints.js";
import { notYetWritten } from "../../../core/steps.js";
import { CLI_DIALECT } from "../hints.js";
import { formatDuration } from "../../../core/duration.js";
import type { Project, ProjectSummary } from "../../../core/types.js";
import { commaList, identity, str, type Ctx, type Opts } from "../invocation.js";
import { EXIT } from "../exit.js";
import { headState, localRepository, parseJson, readFileArg } from "../input.js";
import { judgedOnBranches } from "../../../core/freshness.js";
import { capFlag } from "./fields.js";
import { c, table } from "../output.js";
import { NEW_PROJECT, registerOperation } from "../operation.js";
import * as render from "../render.js";
import { cliAction } from "../run.js";
import { repoRoot, writeRepoConfig } from "../ledger-config.js";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failed check. */
  hint?: string;
  exit?: number;
}

/** A failed check from a ledger error: its message, its hint in the CLI's words, its exit code. */
const failedCheck = (name: string, e: LedgerError): Check => ({
  name,
  ok: false,
  detail: e.message,
  ...(e.hintTemplate ? { hint: renderHint(e.hintTemplate, CLI_DIALECT) } : {}),
  exit: EXIT[e.code],
});

export function register(program: Command): void {
  program
    .command("init")
    .description("create the ledger (and a project with -p) and print where it is; inside a git repository, also write its .workledger so every agent there finds this ledger")
    .option("--new-project", "create the project though its name is close to an existing one's")
    .action(
      cliAction(async (o, ctx) => {
        const ledger = await ctx.ledger();
        const project =
          ctx.project === undefined
            ? undefined
            : await ledger.createProject({ project: ctx.project, agent: identity(ctx), ...(o.newProject === true ? { new_project: true } : {}) });
        // Agents working in this repository (any HOME, any worktree) find this ledger through it.
        const root = ledger.info.kind === "sqlite" ? repoRoot(process.cwd()) : null;
        const config = root === null ? null : writeRepoConfig(root, ledger.info.location, project?.name);
        const data = {
          db: ledger.info.location,
          store: ledger.info.kind,
          schema_version: ledger.info.schema_version,
          ...(project ? { project: project.name } : {}),
          config: config?.path ?? null,
        };
        const said = config ? `\n${config.written ? "wrote" : "kept the existing"} ${config.path}: agents in this repository use this ledger` : "";
        return { data, human: () => `ledger ready at ${data.db} (schema v${data.schema_version})${project ? `, project ${project.name}` : ""}${said}` };
      }),
    );

  program
    .command("doctor")
    .description("check storage, schema, integrity, clock, identity and (with -p) context freshness")
    .option("--max-age <duration>", "context older than this is stale", "24h")
    .action(
      cliAction(async (o, ctx) => {
        const checks: Check[] = [];
        try {
          const ledger = await ctx.ledger();
          const h = await ledger.health();
          checks.push({ name: "storage", ok: true, detail: `${h.store.kind} ${h.store.location}, schema v${h.store.schema_version} (from ${ctx.from.ledger})` });
          checks.push({ name: "integrity", ok: h.integrity.length === 0, detail: h.integrity.length ? h.integrity.slice(0, 5).join("; ") : "ok", exit: 7 });
          if (h.schema)
            checks.push({
              name: "schema",
              ok: h.schema.length === 0,
              detail: h.schema.length ? h.schema.slice(0, 5).join("; ") + (h.schema.length > 5 ? ` (and ${h.schema.length - 5} more)` : "") : "as its migrations make it",
              exit: 7,
            });
          if (h.store.kind === "sqlite") checks.push(privacyCheck(h.store.location));
          const ahead = h.last_event_at ? Date.parse(h.last_event_at) - Date.parse(h.now) : 0;
          checks.push({
            name: "clock",
            ok: ahead <= 1000,
            detail: ahead <= 1000 ? `now ${h.now}` : `the newest event is ${formatDuration(ahead)} in the future: this clock is behind`,
            exit: 1,
          });
          if (ctx.project !== undefined) {
            try {
              const git = headState();
              const pull = judgedOnBranches(await ledger.contextPull({ project: ctx.project, max_age: str(o.maxAge), git }), git, localRepository());
              const stale = pull.entries.filter((e) => e.verdict === "stale");
              const detail =
                pull.verdict === "none"
                  ? "no context saved yet"
                  : stale.length
                    ? stale.map((e) => `${e.key}: ${e.stale_reasons.join("; ")}`).join(", ")
                    : `${pull.entries.length} key(s) fresh`;
              checks.push({ name: "context", ok: stale.length === 0, detail: `${detail} (project ${ctx.project} from ${ctx.from.project})`, exit: 8 });
            } catch (e) {
              if (!isLedgerError(e)) throw e;
              // A project that does not exist yet is made by its first write; a near miss of one that does is a typo.
              checks.push(
                notYetWritten(e)
                  ? { name: "context", ok: true, detail: `project ${ctx.project} has no work yet (its first write creates it; from ${ctx.from.project})` }
                  : failedCheck("context", e),
              );
            }
          }
        } catch (e) {
          checks.push(isLedgerError(e) ? failedCheck("storage", e) : { name: "storage", ok: false, detail: String(e), exit: 1 });
        }
        checks.push(await identityCheck(ctx));
        const failed = checks.find((k) => !k.ok);
        const data = { ok: !failed, checks: checks.map(({ exit: _e, ...k }) => k) };
        return {
          data,
          exitCode: failed?.exit ?? 0,
          human: () =>
            [table(checks.map((k) => [k.ok ? c.green("ok") : c.red("FAIL"), k.name, k.detail])), ...checks.flatMap((k) => (k.hint ? [`${c.dim("hint:")} ${k.hint}`] : []))].join(
              "\n",
            ),
        };
      }),
    );

  const project = program.command("project").description("manage projects");
  const named = { read: (_o: Opts, _ctx: Ctx, args: string[]) => args[0] };
  registerOperation<Project & { created: boolean }>(project, {
    op: "createProject",
    name: "create <name>",
    description: "create a project (projects are also created by their first write)",
    flags: { project: named, new_project: NEW_PROJECT },
    render: (p) => ({ human: () => (p.created ? `created project ${p.name}` : `project ${p.name} already exists`) }),
  });

  registerOperation<Project>(project, {
    op: "setPolicy",
    name: "set <name>",
    description: "change a project's policy (admins only: locally, --as-admin or WORKLEDGER_ROLE=admin)",
    flags: {
      project: named,
      verification_authors: {
        help: "who may set or change verification commands: creator (the WO's creator and admins; default), admins, or any",
        flag: "--verification-authors <who>",
      },
      require_verification: {
        help: "on: done needs a passing verify under the current lease (VERIFICATION_REQUIRED otherwise); off: it only warns",
        flag: "--require-verification <on|off>",
        read: (o) => onOff(o.requireVerification),
      },
      max_hold: { help: "default cap on how long renewals may keep one lease (e.g. 4h), or none", flag: "--max-hold <duration>" },
      max_usd: { help: "default USD cap of new work orders, or none", flag: "--max-usd <usd>", read: (o) => capFlag(o.maxUsd) },
      max_tokens: { help: "default token cap of new work orders, or none", flag: "--max-tokens <n>", read: (o) => capFlag(o.maxTokens) },
      max_attempts: { help: "default attempts cap of new work orders, or none", flag: "--max-attempts <n>", read: (o) => capFlag(o.maxAttempts) },
      prices: {
        help: 'USD per million tokens by model prefix, as JSON ({"my-model":{"input":1,"output":4}}), a file (@prices.json), or none',
        flag: "--prices <json>",
        read: (o) => pricesFlag(o.prices),
      },
      trusted_authors: {
        help: "agents whose verification commands verify runs without --trust (comma-separated), or none to trust every allowed author",
        flag: "--trusted-authors <agents>",
        read: (o) => (str(o.trustedAuthors)?.trim().toLowerCase() === "none" ? null : commaList(o.trustedAuthors)),
      },
      verification_env: {
        help: "environment variables passed to verification commands besides PATH, HOME, LANG and the like (comma-separated; empty: none)",
        flag: "--verification-env <names>",
        read: (o) => commaList(o.verificationEnv),
      },
      verification_network: {
        help: "on: verification commands may use the network; off (default): none inside the sandbox",
        flag: "--verification-network <on|off>",
        read: (o) => onOff(o.verificationNetwork),
      },
      require_sandbox: {
        help: "on: verify refuses to run without a sandbox (bwrap); off (default): it runs scrubbed and says sandbox none",
        flag: "--require-sandbox <on|off>",
        read: (o) => onOff(o.requireSandbox),
      },
      stages: {
        help: "the pipeline's stages in order, comma-separated (e.g. enrich,ready); new work starts in the first; none removes them",
        flag: "--stages <names>",
        read: (o) => (str(o.stages)?.trim().toLowerCase() === "none" ? [] : commaList(o.stages)),
      },
      idle_limit: {
        help: "a keep-alive stops holding the leases of an agent idle this long (no tool call, hook or workledger command; default 20m), or none",
        flag: "--idle-limit <duration>",
      },
      branch_prefix: { help: "what new work orders' branch names start with (default wo/; e.g. team/wo-); existing ones keep theirs", flag: "--branch-prefix <prefix>" },
      prune_after: {
        help: "serve prunes the history of work orders finished longer ago than this, once a day, archiving it in its --archive-dir (e.g. 180d), or none (default)",
        flag: "--prune-after <duration>",
      },
      done_stage: {
        help: "work may be done only from this stage (e.g. review), or none (default: any)",
        flag: "--done-stage <stage>",
        read: (o) => (str(o.doneStage)?.trim().toLowerCase() === "none" ? null : str(o.doneStage)),
      },
    },
    render: (p) => ({ human: () => render.policy(p) }),
  });

  registerOperation<ProjectSummary[]>(program, {
    op: "projects",
    description: "list projects with counts per status",
    // Every project, whatever -p / WORKLEDGER_PROJECT says (the table's everyProject).
    flags: {},
    render: (list) => ({ human: () => render.projects(list) }),
  });
}

/** Whether every user of the machine can read the ledger (older versions made it 0644): notes and context are the team's only. */
function privacyCheck(db: string): Check {
  let mode: number;
  try {
    mode = statSync(db).mode & 0o777;
  } catch {
    return { name: "privacy", ok: true, detail: "in memory" };
  }
  const shown = `0${mode.toString(8)}`;
  if (!(mode & 0o004)) return { name: "privacy", ok: true, detail: `${db} is mode ${shown}` };
  return {
    name: "privacy",
    ok: false,
    detail: `${db} is readable by every user of this machine (mode ${shown})`,
    hint: `chmod 600 ${db} ${db}-wal ${db}-shm and chmod 700 ${dirname(db)}; to share with a group, chmod 660 and 770 instead, with the files in that group`,
    exit: 1,
  };
}

/** A comma-separated flag as a list ("" is the empty list), split as the repeatable flags are. */
/** --prices: JSON inline or from @file, or none (null). */
function pricesFlag(v: Opts[string]): unknown {
  const s = str(v);
  if (s === undefined) return undefined;
  if (s.trim().toLowerCase() === "none") return null;
  return parseJson(s.startsWith("@") ? readFileArg(s.slice(1), "prices") : s, "prices");
}

/** on/off (and true/false, yes/no) as a boolean; anything else is passed on for the schema to name. */
function onOff(v: Opts[string]): boolean | string | undefined {
  const s = str(v)?.toLowerCase();
  if (s === undefined) return undefined;
  return ["on", "true", "yes"].includes(s) ? true : ["off", "false", "no"].includes(s) ? false : s;
}

/** Who the ledger knows the caller as (a remote one: the token's agent), or else --agent/WORKLEDGER_AGENT. */
async function identityCheck(ctx: Ctx): Promise<Check> {
  try {
    const me = await (await ctx.ledger()).whoami();
    if (me === null) return { name: "identity", ok: ctx.agent !== undefined, detail: ctx.agent ?? "no agent name: pass --agent NAME or set WORKLEDGER_AGENT", exit: 2 };
    return { name: "identity", ok: true, detail: `${me.agent} (token ${me.id}, role ${me.role}${me.project ? `, project ${me.project}` : ""})` };
  } catch (e) {
    return { name: "identity", ok: false, detail: isLedgerError(e) ? e.message : String(e), exit: isLedgerError(e) ? EXIT[e.code] : 1 };
  }
}
