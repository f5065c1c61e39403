/** What every CLI command gets: global options resolved against the environment, and a lazily opened ledger. */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { LedgerApi } from "../../core/api.js";
import { withLeaseMemory } from "../../core/lease-memory.js";
import { connect } from "./connect.js";
import { fileLeaseMemory, leaseDir, tokenMemoryOff } from "./lease-files.js";
import { currentSession } from "./sessions.js";
import { findRepoConfig, type RepoConfig } from "./ledger-config.js";
import { LedgerError } from "../../core/errors.js";
import { searchedIn } from "../../core/steps.js";
import { agentName } from "../../core/schema-fields.js";

export type Opts = Record<string, string | boolean | string[] | undefined>;

export interface Ctx {
  /** Options as typed on the command line, including the global ones (no environment fallback). */
  flags: Opts;
  json: boolean;
  agent: string | undefined;
  /** The role on a local ledger: an agent, unless the user asked for admin (--as-admin, WORKLEDGER_ROLE=admin). A server takes it from the token. */
  role: "agent" | "admin";
  project: string | undefined;
  db: string | undefined;
  databaseUrl: string | undefined;
  /** Where the ledger and the project were found (DESIGN.md §9): a flag, a variable, the repository's .workledger, or the default. */
  from: { ledger: string; project: string | null };
  /**
   * The ledger this command talks to (local store or remote server), opened on
   * first use, remembering lease tokens in the CLI's state files unless told
   * not to (the MCP server keeps its session's own).
   */
  ledger(opts?: { tokenMemory?: boolean }): Promise<LedgerApi>;
}

/** What a command hands back; the runner prints it and sets the exit code. */
export interface Result {
  /** Printed as JSON with --json; undefined for commands that streamed their output already. */
  data: unknown;
  human: () => string;
  exitCode?: number;
  warnings?: string[];
}

/**
 * The repository's .workledger when `db` (given by --db or WORKLEDGER_DB) is
 * the ledger it names: its project is the one to use there too (thirty-fourth
 * trials: WORKLEDGER_DB set to that very ledger left whoami without one).
 * `repo`: already looked up (undefined: not yet; null: not to be used).
 */
function sameLedgerConfig(db: string | undefined, repo: RepoConfig | null | undefined): RepoConfig | null {
  if (db === undefined || repo === null) return null;
  try {
    const config = repo ?? findRepoConfig();
    return config?.db !== undefined && resolve(config.db) === resolve(db) ? config : null;
  } catch {
    return null; // a broken .workledger is said where it names the ledger; here it only might have named a project
  }
}

/**
 * `repoFirst` (the git hooks): the ledger the repository's `.workledger` names
 * judges, whatever the shell's variables say: `WORKLEDGER_DB` naming a ledger
 * of the caller's own let a non-holder move a WO's branch (twenty-ninth trials).
 */
export function makeCtx(g: Opts, { repoFirst = false } = {}): Ctx & { close(): Promise<void>; searched(e: unknown): Promise<unknown> } {
  let ledger: Promise<LedgerApi> | undefined;
  const repo = repoFirst ? findRepoConfig() : undefined; // undefined: not looked up yet
  const pinned = repo?.db !== undefined ? repo : null;
  const env = (name: string) => (pinned !== null ? undefined : process.env[name] || undefined);
  const databaseUrl = str(g.databaseUrl) ?? env("WORKLEDGER_DATABASE_URL");
  const agent = agentOf(g);
  const given = str(g.db) ?? env("WORKLEDGER_DB");
  // The repository's .workledger only where nothing names a ledger (a database or a server URL does too).
  const config = pinned ?? (given === undefined && databaseUrl === undefined && !env("WORKLEDGER_URL") ? (repo === undefined ? findRepoConfig() : repo) : null);
  const db = given ?? config?.db;
  const projectConfig = config ?? sameLedgerConfig(given, databaseUrl === undefined && !env("WORKLEDGER_URL") ? repo : null);
  const project = str(g.project) ?? (process.env.WORKLEDGER_PROJECT || undefined) ?? projectConfig?.project;
  const from = {
    ledger:
      sourceOf([
        [process.env.WORKLEDGER_URL, "WORKLEDGER_URL"],
        [str(g.databaseUrl), "--database-url"],
        [process.env.WORKLEDGER_DATABASE_URL, "WORKLEDGER_DATABASE_URL"],
        [str(g.db), "--db"],
        [process.env.WORKLEDGER_DB, "WORKLEDGER_DB"],
        [config?.db, config?.path],
      ]) ?? "default",
    project: sourceOf([
      [str(g.project), "--project"],
      [process.env.WORKLEDGER_PROJECT, "WORKLEDGER_PROJECT"],
      [projectConfig?.project, projectConfig?.path],
    ]),
  };
  return {
    flags: g,
    json: g.json === true,
    agent,
    role: roleOf(g),
    project,
    db,
    databaseUrl,
    from,
    ledger: ({ tokenMemory = true } = {}) =>
      (ledger ??= connect({ db, databaseUrl, localOnly: pinned !== null }).then((l) => (!tokenMemory || tokenMemoryOff() ? l : withLeaseMemory(l, leaseMemoryOf(l, agent))))),
    close: async () => (await ledger?.catch(() => undefined))?.close(),
    searched: async (e: unknown) => {
      const opened = await ledger?.catch(() => undefined);
      return opened ? searchedIn(e, opened.info.location) : e;
    },
  };
}

/** The first setting given, in the order they take effect: where a value came from. */
const sourceOf = (settings: [string | undefined, string | undefined][]): string | null => settings.find(([value]) => value)?.[1] ?? null;

/**
 * The caller's name, refused here when it is not a valid one: refused later, the error would name a field `agent`
 * that an MCP model cannot set and that is no CLI flag's name (fifteenth trials).
 */
function agentOf(g: Opts): string | undefined {
  const [agent, from] = str(g.agent) !== undefined ? [str(g.agent), "--agent"] : [process.env.WORKLEDGER_AGENT || undefined, "WORKLEDGER_AGENT"];
  const bad = agent === undefined ? undefined : agentName.safeParse(agent).error?.issues[0]?.message;
  if (bad === undefined) return agent;
  throw new LedgerError("VALIDATION", `${from}: ${bad}, got ${JSON.stringify(agent)}`, {
    hint: `give a name like agent-a (${from === "--agent" ? "the flag" : "the variable, where this process was started"}); nothing was done`,
    details: { issues: [{ field: from, message: bad }] },
  });
}

/** A local caller is an agent unless it asks for admin; any other WORKLEDGER_ROLE is a mistake, not a role. */
function roleOf(g: Opts): "agent" | "admin" {
  const env = process.env.WORKLEDGER_ROLE || undefined;
  if (env !== undefined && env !== "admin" && env !== "agent") {
    throw new LedgerError("VALIDATION", `WORKLEDGER_ROLE: must be admin or agent, got ${JSON.stringify(env)}`, {
      hint: "unset it (a local caller is an agent), or set it to admin in a person's shell",
      details: { issues: [{ field: "WORKLEDGER_ROLE", message: "must be admin or agent" }] },
    });
  }
  return g.asAdmin === true || env === "admin" ? "admin" : "agent";
}

/** The CLI's lease memory of `agent` on `ledger`; a lease first remembered inside a keep-alive session is that session's. */
export const leaseMemoryOf = (ledger: LedgerApi, agent: string | undefined) => fileLeaseMemory(ledger.info.location, memoryKey(agent), leaseDir(), currentSession);

/** Whose leases the memory holds: the agent's name, or with a server, its token's (never the token itself). */
function memoryKey(agent: string | undefined): string {
  const token = process.env.WORKLEDGER_URL ? process.env.WORKLEDGER_TOKEN : undefined;
  return token ? `token:${createHash("sha256").update(token).digest("hex").slice(0, 16)}` : (agent ?? "");
}

export const str = (v: Opts[string]): string | undefined => (typeof v === "string" ? v : undefined);
export const list = (v: Opts[string]): string[] | undefined => (Array.isArray(v) ? v : typeof v === "string" ? [v] : undefined);

/** Whole numbers become numbers; anything else is passed on so the shared schema names the problem. */
export const num = (v: Opts[string]): number | string | undefined => {
  const s = str(v);
  return s !== undefined && /^\s*-?\d+\s*$/.test(s) ? Number(s) : s;
};

/** Decimal numbers (amounts in USD) become numbers; anything else is passed on for the schema to name. */
export const decimal = (v: Opts[string]): number | string | undefined => {
  const s = str(v);
  return s !== undefined && /^\s*-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(s) ? Number(s) : s;
};

/** Repeatable option collector that also splits commas: --label a --label b,c. */
export const collect = (value: string, prev: string[] = []) => [
  ...prev,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];
/** A comma-separated flag as a list (empty: an empty list). */
export function commaList(v: Opts[string]): string[] | undefined {
  const s = str(v);
  return s === undefined ? undefined : collect(s);
}
/** Repeatable option collector that keeps each value whole (acceptance criteria may contain commas). */
export const append = (value: string, prev: string[] = []) => [...prev, value];

/**
 * The caller's identity as the core expects it. When none is configured we
 * pass nothing on purpose: the core's schema turns that into NO_IDENTITY
 * (exit 2) with one message shared by every door.
 */
export const identity = (ctx: Ctx): string => ctx.agent as string;
export const projectOf = (ctx: Ctx): string => ctx.project as string;
