/**
 * What a verification command may see (issue 24). The command is code another
 * agent wrote, run on the verifier's machine: it gets an environment without
 * workledger's own variables or anything that looks like a secret, and,
 * where a sandbox is available, a read-only file system with credential
 * folders hidden and no network. The rules are here; exec/sandbox.ts applies them.
 */
import { LedgerError } from "./errors.js";
import { label } from "./rules.js";
import type { ProjectPolicy } from "./types.js";

export type SandboxKind = "bwrap" | "none";

/** Values that carry a password in a URL (`scheme://user:password@host`), whatever the variable is called. */
const SECRET_VALUE = /[a-z][a-z0-9+.-]*:\/\/[^/\s@]*:[^/\s@]*@/i;

/**
 * Home directories are hidden whole from a verification command (an empty,
 * writable, throw-away directory in their place): what they hold is the
 * verifier's, and a command that read a file there could print it into the
 * note every agent reads, or plant one (a `.bashrc`) that runs unsandboxed
 * later (twenty-fifth trials). Toolchains installed there (`~/.cargo`,
 * `~/.pyenv`: a directory of the home holding an entry of PATH) stay
 * readable, with the credential files below hidden in them too.
 */
export const HIDDEN_HOMES = ["/root", "/home"];

/** Credential files and folders under a home directory: hidden even inside a toolchain folder left readable. */
export const HIDDEN_IN_HOME = [
  ".workledger",
  ".ssh",
  ".aws",
  ".azure",
  ".config/gcloud",
  ".config/gh",
  ".config/hub",
  ".docker",
  ".kube",
  ".gnupg",
  ".npmrc",
  ".yarnrc.yml",
  ".pypirc",
  ".netrc",
  ".git-credentials",
  ".pgpass",
  ".config/workledger",
  ".cargo/credentials",
  ".cargo/credentials.toml",
];

/**
 * The machine's own secrets, hidden from every verification command (the sandbox may run as root), and its
 * services' sockets: in /run, a database's let a command run a program as the database's user, outside the
 * sandbox (twenty-eighth trials: PostgreSQL's COPY … TO PROGRAM copied another agent's key out).
 */
export const HIDDEN_SYSTEM = ["/etc/shadow", "/etc/gshadow", "/etc/ssh", "/run", "/var/lib/mysql", "/var/lib/postgresql"];

/**
 * Files in a work tree that a client, a shell or a package manager runs or
 * obeys outside any sandbox (agent-setup's among them: a hook a verification
 * command added to `.claude/settings.json` ran as the verifier at its next
 * session, thirty-first trials). Where the sandbox cannot throw the command's
 * writes away, they stay read-only to it, and one it makes is removed. Those
 * only agents' clients and package managers write (AGENT_CLIENT_FILES) are
 * never checkpointed either.
 */
export const AGENT_CLIENT_FILES = [
  ".claude",
  ".mcp.json",
  "mcp.json",
  "codex-config.toml",
  "workledger-session.sh",
  ".codex",
  ".cursor",
  ".gemini",
  "opencode.json",
  ".opencode",
  ".aider.conf.yml",
  ".continue",
  ".windsurf",
  ".amazonq",
  ".roo",
  ".kiro",
  ".claude.json",
  ".qwen",
  ".crush.json",
  ".augment",
  ".cline",
  ".junie",
  ".zed",
  // Every package's code runs in the holder's next `npm test`, and its .bin in the next `npx`.
  "node_modules",
];
const AGENT_FILES = new Set(AGENT_CLIENT_FILES.filter((f) => f !== "mcp.json"));
/**
 * Whether a path of a work tree is an agent client's file or an installed package's, at any depth (a monorepo package's own:
 * thirty-third trials); `mcp.json` (a common name) only where agent-setup writes it. Checkpoints never take them, and a
 * WO's branch never gets them from its holder (only from an admin).
 */
// Any case: on a case-insensitive file system (macOS's), `.Claude` is `.claude` (thirty-fifth MCP trial).
export const isAgentClientPath = (path: string) =>
  path.toLowerCase() === "mcp.json" || /(^|\/)\.vscode\/mcp\.json$/i.test(path) || path.split("/").some((part) => AGENT_FILES.has(part.toLowerCase()));
/** Of those, what projects commit themselves: instructions and tools' settings. */
const PROJECT_TOOL_FILES = ["CLAUDE.md", "AGENTS.md", ".vscode", ".envrc", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmfile.cjs"];
export const CLIENT_FILES = [...AGENT_CLIENT_FILES, ...PROJECT_TOOL_FILES];

/** Whether `path` is `dir` or below it. */
const within = (path: string, dir: string, sep: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/** Files a home directory holds and a work tree does not: outside git, a directory holding one is someone's home. */
export const HOME_MARKERS = [
  ".ssh",
  ".gnupg",
  ".bashrc",
  ".profile",
  ".bash_history",
  ".gitconfig",
  ".git-credentials",
  ".netrc",
  ".aws",
  ".kube",
  ".docker",
  ".workledger/ledger.db",
  // An agent's lease memory: its home, whichever ledger it uses (thirty-fourth trials: a home with only .config and .cache).
  ".workledger/leases",
];
/**
 * Of those, what no work tree's top holds: a home's own state and keys, not the dotfiles a dotfiles repository tracks.
 * A work tree whose top holds one is a home kept in git (thirty-fourth MCP trial: another agent's, its keys put in a note).
 */
export const HOME_STATE_MARKERS = [".ssh", ".gnupg", ".bash_history", ".git-credentials", ".netrc", ".workledger/ledger.db", ".workledger/leases"];

/**
 * Where a verification command may run: never in a directory holding the
 * caller's home directory (the home itself, `/`): the work tree it runs in is
 * writable, and the home is what it must not see or change (an MCP server
 * started in the home ran another agent's command there: twenty-fifth MCP
 * trial). Outside git, never in or below one that holds a home's files: `dir`
 * pointed at another agent's home, and its key went into the note every agent
 * reads (twenty-seventh trials). In git, never in a work tree whose top holds
 * a home's state (HOME_STATE_MARKERS: a home kept in git). `homeFile`: that
 * file (the exec layer looks).
 */
export function assertRunDir(
  dir: string,
  home: string,
  sep: string,
  where: { inGit: boolean; homeFile: string | undefined; homesBelow: readonly string[]; scanned: boolean; homes?: readonly string[] },
): void {
  const refuse = (why: string, message: string) =>
    new LedgerError("VALIDATION", `dir: ${dir} ${why}: a verification command never runs there; nothing was run`, {
      hint: "run it in the work tree it verifies: your worktree for the work order ({{op:worktree}} makes one), or give its path ({{dir=PATH}})",
      details: { issues: [{ field: "dir", message }], home },
    });
  if (within(home, dir, sep)) throw refuse(`holds your home directory (${home})`, "holds the home directory");
  if (where.inGit) {
    if (where.homeFile !== undefined) throw refuse(`is a work tree whose top holds ${where.homeFile}, as a home directory does`, "a home directory kept in git");
    return;
  }
  // A folder of a home outside git is no work tree, and what the home holds is there to read (thirty-second MCP trial:
  // dir=/root/.local/share, named in a WO's description, put another program's token into the note).
  const inHome = [home, ...(where.homes ?? [])].find((h) => within(dir, h, sep));
  if (inHome !== undefined) throw refuse(`is outside git inside a home directory (${inHome})`, "in a home directory outside git");
  if (where.homeFile !== undefined) throw refuse(`is outside git, where ${where.homeFile} is, as in a home directory`, "in what looks like a home directory");
  // Below it too (twenty-ninth MCP trial: a server's folder held every agent's home, and a command read their keys).
  if (where.homesBelow.length > 0) throw refuse(`is outside git and holds what looks like a home directory (${where.homesBelow[0]})`, "holds a home directory");
  if (!where.scanned) throw refuse("is outside git and too large to look through for home directories and repositories", "too large to check");
}

/**
 * Where a verification given a directory may run: in the repository the
 * caller stands in (its main checkout or a worktree of it), or, standing
 * outside git, at or below where it stands. A directory named elsewhere, in a
 * WO's description or by a prompt, ran its author's command in another
 * agent's home and put its keys in a note (thirty-fourth and thirty-fifth
 * trials: a home with no key at its top, a home kept in git, a repository in
 * a home). Paths are real ones (symbolic links resolved).
 */
export function assertCallersWork(dir: string, at: { repo: string | undefined; callerRepo: string | undefined; cwd: string }, sep: string): void {
  if (at.callerRepo !== undefined ? at.repo === at.callerRepo : within(dir, at.cwd, sep)) return;
  const where = at.callerRepo !== undefined ? `in the repository you stand in (${at.callerRepo})` : `below where you stand (${at.cwd})`;
  throw new LedgerError(
    "VALIDATION",
    `dir: ${dir} is ${at.repo !== undefined ? `in another repository (${at.repo})` : "outside git"}, not ${where}: a verification runs in the work it verifies; nothing was run`,
    {
      hint: "run it from the work order's repository or your worktree for it ({{op:worktree}}), leaving out {{dir}} or naming a directory of that repository",
      details: { issues: [{ field: "dir", message: "not in the caller's repository" }], repository: at.callerRepo ?? null },
    },
  );
}

/**
 * The variables a verification command gets from the caller's environment:
 * where things are and how text is written, nothing that changes what a
 * program does. The pinned command must mean the same whoever runs it: a
 * caller's `npm_config_script_shell=/bin/true` made a failing test pass, and
 * a scrub by name let `GH_PAT` through (twenty-seventh trials). A project
 * passes others by name (`verification_env`).
 */
const PASSED = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_(ALL|CTYPE|COLLATE|MESSAGES|NUMERIC|TIME|MONETARY)|TZ|TERM|TMPDIR|CI)$/;

/**
 * The environment a verification command runs with, and the names left out
 * (never their values). PATH keeps only absolute folders outside the work
 * tree `dir`: a folder in it is the work's own, where a stand-in for a tool
 * could answer for it.
 */
export function scrubEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  pass: readonly string[],
  dir: string,
  sep = "/",
): { env: Record<string, string>; removed: string[] } {
  const out: Record<string, string> = {};
  const removed: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    // Workledger's own variables are never passed, even when named: they are the caller's identity.
    const named = pass.includes(name) || (PASSED.test(name) && !SECRET_VALUE.test(value));
    if (!/^WORKLEDGER_/i.test(name) && named) out[name] = value;
    else removed.push(name);
  }
  if (out.PATH !== undefined)
    out.PATH = out.PATH.split(":")
      .filter((d) => d.startsWith(sep) && !within(d, dir, sep))
      .join(":");
  return { env: out, removed: removed.sort() };
}

/** The sandbox verify uses: bwrap where available; none without it, unless the project requires one. */
export function sandboxFor(required: boolean, wo: { project: string; id: number }, available: SandboxKind, why: string): SandboxKind {
  if (available !== "none" || !required) return available;
  throw new LedgerError("SANDBOX_REQUIRED", `project ${wo.project} runs verification commands only in a sandbox, and none is available here (${why}); nothing was run`, {
    hint: "install bubblewrap (apt-get install bubblewrap) and verify again; or ask an admin to change the project's policy ({{op:setPolicy}} {{require_sandbox=false}})",
    details: { project: wo.project, id: wo.id, sandbox: "none", reason: why },
  });
}

/**
 * Whether `agent` may run `author`'s command without saying it trusts it: a
 * project may list trusted authors (null: every author the project lets
 * write commands). An agent's own command is always its own risk.
 */
export function assertTrusted(policy: ProjectPolicy, wo: { project: string; id: number }, agent: string, author: string | null, trust: boolean): void {
  const trusted = policy.trusted_authors;
  if (trusted === null || trust || author === agent || (author !== null && trusted.includes(author))) return;
  throw new LedgerError(
    "UNTRUSTED_VERIFICATION",
    `the verification command of ${label(wo.id)} was written by ${author ?? "an unknown author"}, who is not a trusted author in project ${wo.project} (${trusted.join(", ") || "nobody"}); nothing was run`,
    {
      hint: "read the command first ({{op:get}}); run it only if you would run it yourself ({{trust}}), or ask an admin to add its author to the project's trusted authors",
      details: { project: wo.project, id: wo.id, author, trusted_authors: trusted },
    },
  );
}
