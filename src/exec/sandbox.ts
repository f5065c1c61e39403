/**
 * Runs a verification command the way core/sandbox.ts says: inside
 * bubblewrap where it works here (the root file system read-only, the work
 * tree and a private /tmp writable, home directories, credentials and the
 * ledger's own files hidden, no network unless the project allows it, its own
 * process tree), and with a scrubbed environment either way.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, delimiter, dirname, join, resolve, sep } from "node:path";
import { trustedProgram } from "./programs.js";
import { HIDDEN_HOMES, HIDDEN_IN_HOME, HIDDEN_SYSTEM, type SandboxKind } from "../core/sandbox.js";

export interface Sandbox {
  kind: SandboxKind;
  /** Why there is none (shown in SANDBOX_REQUIRED). */
  why: string;
  /** Whether what the command writes in the work tree is thrown away after it (an overlay); else it stays. */
  discards: boolean;
  /** The program and arguments that run `command` in `dir`; `hide`: more paths hidden, `protect`: files in the work tree kept read-only. */
  wrap(command: string, dir: string, opts: WrapOptions): [string, string[]];
}

export interface WrapOptions {
  network: boolean;
  hide: readonly string[];
  protect: readonly string[];
}

const shell = (command: string): [string, string[]] => ["/bin/sh", ["-c", command]];

let found: Sandbox | undefined;

/**
 * The sandbox this machine offers, probed once: bwrap (WORKLEDGER_BWRAP, the
 * system's, or else the first on PATH in an absolute folder outside the
 * current directory) if it can start, else none. Never one a work tree holds:
 * `npm exec` put a committed node_modules/.bin/bwrap first on PATH, and it ran
 * the command unsandboxed while the result said bwrap (twenty-ninth trials).
 */
export function detectSandbox(): Sandbox {
  if (found) return found;
  const bwrap = process.env.WORKLEDGER_BWRAP ?? SYSTEM_BWRAP.find((p) => existsSync(p)) ?? trustedProgram("bwrap");
  if (!bwrap) return (found = none("bubblewrap (bwrap) is not installed"));
  // User namespaces may be off (some containers): then bwrap exists but cannot start.
  const probe = spawnSync(bwrap, ["--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "/bin/true"], { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : probe.stderr.toString().trim() || `exit ${probe.status}`;
    return (found = none(`bwrap at ${bwrap} cannot start here: ${why}`));
  }
  const overlay = overlayMount(bwrap);
  return (found = {
    kind: "bwrap",
    why: "",
    discards: overlay !== null,
    wrap: (command, dir, opts) => {
      const inner = [...bwrapArgs(dir, opts, overlay !== null), "/bin/sh", "-c", command];
      return overlay === null ? [bwrap, inner] : [overlay.unshare, [...overlay.args(resolve(dir)), bwrap, ...inner]];
    },
  });
}

/**
 * The work tree as the command sees it, where this machine lets an
 * unprivileged user do it (Linux 5.11 or later with user namespaces): an
 * overlay whose writes go to a throw-away memory file system, so nothing the
 * command writes stays. A writable work tree let it plant code that ran later
 * as the verifier, outside any sandbox: a hook in the client's settings (git
 * ignores them), a husky hook in the work tree, a module in node_modules
 * (thirty-first trials). bwrap 0.8 has no overlay of its own, so `unshare`
 * makes a user and mount namespace, mounts the overlay there and starts bwrap
 * in it (WORKLEDGER_UNSHARE names another `unshare`). Probed once; null where it cannot.
 */
function overlayMount(bwrap: string): { unshare: string; args: (work: string) => string[] } | null {
  const unshare = process.env.WORKLEDGER_UNSHARE ?? SYSTEM_UNSHARE.find((p) => existsSync(p));
  const at = join(scratchDir(), "overlay");
  if (unshare === undefined || !SAFE_PATH.test(at)) return null;
  mkdirSync(at, { recursive: true, mode: 0o700 });
  const args = (work: string) => ["--user", "--map-root-user", "--mount", "/bin/sh", "-c", OVERLAY_SCRIPT, "sh", at, work];
  const lower = mkdtempSync(join(scratchDir(), "probe-"));
  const probe = spawnSync(
    unshare,
    [...args(lower), bwrap, "--ro-bind", "/", "/", "--unshare-all", ...asCaller, "--die-with-parent", "--bind", lower, lower, "--chdir", lower, "/bin/sh", "-c", "echo ok > probe"],
    {
      stdio: ["ignore", "ignore", "ignore"],
      timeout: 10_000,
    },
  );
  const works = probe.status === 0 && !existsSync(join(lower, "probe"));
  rmSync(lower, { recursive: true, force: true });
  return works ? { unshare, args } : null;
}

/** bwrap's arguments that make the command the caller's user and group (in the overlay's namespace the caller is root). */
const asCaller = ["--unshare-user", "--uid", String(process.getuid?.() ?? 0), "--gid", String(process.getgid?.() ?? 0)];
const SYSTEM_UNSHARE = ["/usr/bin/unshare", "/bin/unshare"];
/** Characters a mount option may hold unquoted (the overlay's own folders; the work tree is bound to one of them first). */
const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
/**
 * Run as root of a new user namespace: a memory file system for the
 * overlay's writes, the work tree bound to a folder with a plain name (its own
 * may hold a comma or a colon, which mount options cannot), the overlay on
 * the work tree, then bwrap. Every mount is this namespace's alone.
 */
const OVERLAY_SCRIPT = [
  "m=$1 w=$2; shift 2",
  'mount -t tmpfs -o mode=0700 workledger "$m"',
  'mkdir "$m/lower" "$m/upper" "$m/work"',
  'mount --bind "$w" "$m/lower"',
  'mount -t overlay workledger -o "lowerdir=$m/lower,upperdir=$m/upper,workdir=$m/work" "$w"',
  'exec "$@"',
].join(" && ");

function none(why: string): Sandbox {
  return { kind: "none", why, discards: false, wrap: shell };
}

const SYSTEM_BWRAP = ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"];

const under = (p: string, root: string) => p === root || p.startsWith(root + sep);

/**
 * The repository's git config as the command sees it: without the passwords
 * of remote URLs and the settings that carry a credential (an extra HTTP
 * header, a token, a credential helper): readable, they went into the
 * verification note every agent reads (twenty-sixth trials: a remote URL's
 * token and an `http.extraHeader`). Each is a copy, bound over the original.
 */
function scrubbedConfigs(...gitDirs: string[]): string[] {
  return gitDirs
    .flatMap((d) => [join(d, "config"), join(d, "config.worktree")])
    .filter((f, i, all) => all.indexOf(f) === i && existsSync(f) && statSync(f).isFile())
    .flatMap((f) => ["--ro-bind", scratchFile(scrubConfig(readFileSync(f, "utf8"))), f]);
}

/** A git config's text without credentials (see scrubbedConfigs). */
export function scrubConfig(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^\s*(extraheader|token|password|passwd|secret|helper|askpass|cookiefile|sslkey|sslcertpasswordprotected|pass)\s*=/i.test(line))
    .map((line) => line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1"))
    .join("\n");
}

let scratch: string | undefined;

/** This process's scratch folder, removed when it exits. */
function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "workledger-sandbox-"));
    scratch = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** A file in this process's scratch folder holding `text`: one per content, so a long-lived MCP server's verifications reuse it. */
function scratchFile(text: string): string {
  const file = join(scratchDir(), `config-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`);
  if (!existsSync(file)) writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** The home directories hidden whole: the caller's, root's and every one under /home (core/sandbox.ts HIDDEN_HOMES). */
export function homes(): string[] {
  const listed = (d: string) => {
    try {
      return readdirSync(d).map((n) => join(d, n));
    } catch {
      return [];
    }
  };
  const all = [homedir(), ...HIDDEN_HOMES.flatMap((h) => (h === "/home" ? listed(h) : [h]))].map((p) => resolve(p)).filter((p) => existsSync(p) && statSync(p).isDirectory());
  // One covering another (a HOME of /home/me/sub) is covered with it.
  return [...new Set(all)].filter((h, _, list) => !list.some((o) => o !== h && under(h, o)));
}

/**
 * The toolchains of hidden homes on PATH, readable again: for a `bin` or
 * `shims` folder its prefix (`~/.nvm/versions/node/v20` for its `bin`: the
 * programs need their `lib`), with the prefix's `share` and `state` still
 * hidden (an application's data and tokens: `~/.local` for `~/.local/bin`
 * showed `~/.local/share`, thirty-first MCP trial); for any other folder, the
 * folder alone.
 */
function toolchains(hidden: readonly string[]): { dir: string; hide: string[] }[] {
  const found = new Map<string, string[]>();
  for (const entry of (process.env.PATH ?? "").split(delimiter)) {
    if (!entry.startsWith("/")) continue;
    const at = resolve(entry);
    const home = hidden.find((h) => under(at, h) && at !== h);
    if (home === undefined || !existsSync(at)) continue;
    const prefix = dirname(at);
    const whole = ["bin", "shims"].includes(basename(at)) && prefix !== home;
    found.set(whole ? prefix : at, whole ? ["share", "state"].map((d) => join(prefix, d)).filter((d) => existsSync(d)) : []);
  }
  // Outer folders first: one inside another's hidden `share` (pnpm's) is bound again after it.
  return [...found].sort(([a], [b]) => a.length - b.length).map(([dir, hide]) => ({ dir, hide }));
}

/** Paths hidden from every verification command: credentials under the home directories and the machine's, plus `hide` (the ledger's files). */
function hiddenPaths(hide: readonly string[], allHomes: readonly string[]): string[] {
  // Under every home, not only the caller's: a toolchain of root's on PATH (/root/.cargo) showed root's
  // credentials.toml to a command run by another user's HOME (thirty-second trials).
  const inHomes = [...new Set([homedir(), ...allHomes])].flatMap((h) => HIDDEN_IN_HOME.map((p) => join(h, p)));
  return [...inHomes, ...HIDDEN_SYSTEM, ...hide].map((p) => resolve(p)).filter((p) => existsSync(p));
}

/** Where the network is allowed, the resolver's file stays readable when it lives in a hidden folder (systemd's is in /run). */
function resolver(hidden: readonly string[]): string[] {
  const real = existsSync("/etc/resolv.conf") ? realpathSync("/etc/resolv.conf") : null;
  return real !== null && hidden.some((h) => real.startsWith(h + "/")) ? ["--ro-bind", real, real] : [];
}

function bwrapArgs(dir: string, opts: WrapOptions, overlaid: boolean): string[] {
  const work = resolve(dir);
  const allHomes = homes();
  const hidden = hiddenPaths(opts.hide, allHomes);
  // A directory is covered by an empty tmpfs, a file by /dev/null. What lies under /tmp is gone with
  // the private /tmp, unless it is in the work tree: that is covered again after the work tree's mount.
  const cover = (p: string) => (statSync(p).isDirectory() ? ["--tmpfs", p] : ["--ro-bind", "/dev/null", p]);
  const late = (p: string) => under(p, work);
  const early = (p: string) => !late(p) && !under(p, "/tmp");
  const hiddenHomes = allHomes.filter((h) => !under(h, "/tmp"));
  return [
    "--die-with-parent",
    "--new-session",
    "--unshare-all",
    // Run as root, bwrap keeps every capability: a command remounted the read-only git directory writable and
    // planted a hook that ran as the next agent to commit (twenty-seventh trials).
    "--cap-drop",
    "ALL",
    ...(overlaid ? asCaller : []),
    ...(opts.network ? ["--share-net"] : []),
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    ...hiddenHomes.flatMap((h) => ["--tmpfs", h]),
    ...toolchains(hiddenHomes).flatMap((t) => ["--ro-bind", t.dir, t.dir, ...t.hide.flatMap((h) => ["--tmpfs", h])]),
    ...hidden.filter(early).flatMap(cover),
    ...(opts.network ? resolver(hidden) : []),
    "--tmpfs",
    "/tmp",
    "--bind",
    work,
    work,
    ...gitDirs(work),
    ...hidden.filter(late).flatMap(cover),
    ...opts.protect.filter((p) => existsSync(p)).flatMap((p) => ["--ro-bind", p, p]),
    "--chdir",
    work,
  ];
}

/**
 * The repository's git directory is read-only to the command: what it could
 * write there (a hook, a config's core.hooksPath) would run, unsandboxed, in
 * every later git command of every agent using the repository (twenty-second
 * trials: a verify in the main checkout planted a post-commit hook). A linked
 * worktree's git lives in its repository's git directory, outside the work
 * tree (and hidden by the private /tmp when the repository is there): both
 * that and the worktree's own part are read-only, and so is the `.git` file
 * that points at it, so `git diff` works in the verification (fourteenth MCP
 * trial: "not a git repository" in a worktree under /tmp) and nothing it
 * writes there steers git later (twenty-sixth MCP trial: a `.git` file
 * rewritten to a git directory with a core.fsmonitor command ran that command,
 * outside the sandbox, in workledger's own next git call).
 */
function gitDirs(work: string): string[] {
  for (let at = work; ; at = dirname(at)) {
    const dotGit = join(at, ".git");
    if (existsSync(dotGit)) {
      if (!statSync(dotGit).isFile()) return ["--ro-bind", dotGit, dotGit, ...scrubbedConfigs(dotGit)];
      const own = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim();
      if (own === undefined) return [];
      const gitdir = resolve(at, own);
      const commondir = join(gitdir, "commondir");
      const common = existsSync(commondir) ? resolve(gitdir, readFileSync(commondir, "utf8").trim()) : gitdir;
      return [
        ...[common, gitdir].filter((d, i, all) => existsSync(d) && all.indexOf(d) === i).flatMap((d) => ["--ro-bind", d, d]),
        "--ro-bind",
        dotGit,
        dotGit,
        ...scrubbedConfigs(common, gitdir),
      ];
    }
    if (dirname(at) === at) return [];
  }
}
