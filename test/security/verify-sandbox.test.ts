/**
 * Issue 24, finding 2: a WO's verification command is code its author runs on
 * the verifier's machine. The probe's WO handed over the claimer's token; now
 * the command runs without workledger's variables or secret-looking ones, and
 * under bubblewrap without the network, the credential folders or the
 * ledger's files, while a build in the work tree still passes. Projects can
 * require the sandbox and list the authors verify trusts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { spawnSync } from "node:child_process";
import { existsSync, symlinkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scrubEnvironment } from "../../src/core/sandbox.ts";
import { printable, TAIL_CHARS } from "../../src/exec/verify.ts";
import { detectSandbox } from "../../src/exec/sandbox.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { skipLoudly } from "../helpers/util.ts";

const hasBwrap = spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-all", "/bin/true"]).status === 0;
/** Whether the command's writes to the work tree are thrown away here (an overlay: Linux 5.11+ with user namespaces). */
const overlay = hasBwrap && detectSandbox().discards;
/** The sandbox without its overlay, as on a machine that cannot mount one: the command's writes stay. */
const KEPT = { WORKLEDGER_UNSHARE: "/nonexistent/unshare" };

describe("the verification environment (issue 24, finding 2)", () => {
  it("passes where things are and how text is written, leaves out the rest and workledger's variables, names what it left out, and passes named ones", () => {
    const env = {
      PATH: "/usr/bin",
      HOME: "/home/a",
      LANG: "C",
      WORKLEDGER_TOKEN: "wl_x",
      WORKLEDGER_AGENT: "bob",
      GITHUB_TOKEN: "g",
      AWS_SECRET_ACCESS_KEY: "s",
      OPENAI_API_KEY: "k",
      PGPASSWORD: "p",
      SSH_AUTH_SOCK: "/run/ssh",
      NPM_CONFIG__AUTH: "a",
      DATABASE_URL: "postgres://u:p@h/db",
      MIRROR: "https://user:pw@example.com/x",
      CI: "true",
      LC_ALL: "C.UTF-8",
      LC_SECRET: "s", // not a locale category (twenty-eighth trials)
      // What the twenty-seventh trials passed: a variable that changed what npm runs, and secrets a scrub by name missed.
      npm_config_script_shell: "/bin/true",
      NODE_OPTIONS: "--require ./fake.js",
      BASH_ENV: "/w/x.sh",
      GH_PAT: "ghp_x",
      CI_JOB_JWT: "jwt",
      KUBECONFIG: "/k",
      JAVA_HOME: "/usr/lib/jvm/x",
    };
    const { env: out, removed } = scrubEnvironment({ ...env, PATH: "/w/bin:/usr/local/bin:.::/w:/usr/bin:/wx/bin:bin" }, ["GITHUB_TOKEN", "WORKLEDGER_TOKEN", "JAVA_HOME"], "/w");
    assert.deepEqual(Object.keys(out).sort(), ["CI", "GITHUB_TOKEN", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "PATH"]);
    assert.equal(out.PATH, "/usr/local/bin:/usr/bin:/wx/bin", "no folder of the work tree, nothing relative");
    assert.deepEqual(removed, [
      "AWS_SECRET_ACCESS_KEY",
      "BASH_ENV",
      "CI_JOB_JWT",
      "DATABASE_URL",
      "GH_PAT",
      "KUBECONFIG",
      "LC_SECRET",
      "MIRROR",
      "NODE_OPTIONS",
      "NPM_CONFIG__AUTH",
      "OPENAI_API_KEY",
      "PGPASSWORD",
      "SSH_AUTH_SOCK",
      "WORKLEDGER_AGENT",
      "WORKLEDGER_TOKEN",
      "npm_config_script_shell",
    ]);
  });
});

describe("the output a verification records (twenty-seventh trials)", () => {
  it("is text: colours and escapes left out, other controls shown as U+FFFD, never half a character at the cut", () => {
    assert.equal(printable("\u001b[31mFAIL\u001b[0m 1 test\u001b]0;title\u0007\r\n\tok\u0000\u0008"), "FAIL 1 test\r\n\tok\uFFFD\uFFFD");
    const cut = printable("\u{1F600}".repeat(TAIL_CHARS) + "y");
    assert.equal(cut.length, TAIL_CHARS - 1);
    assert.ok(!/^[\udc00-\udfff]/.test(cut), "no lone low surrogate at the start");
  });
});

describe("verify runs the command sandboxed and without secrets (issue 24, finding 2)", () => {
  let s: Sandbox;
  let home: string;
  let tree: string;
  let server: Server;
  let port = 0;
  const P = "sbx";
  const env = (agent: string, extra: Record<string, string> = {}) => ({ WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: P, HOME: home, ...extra });
  const as = (agent: string, extra: Record<string, string> = {}) => ({ env: env(agent, extra), cwd: tree });
  const admin = () => as("root", { WORKLEDGER_ROLE: "admin" });
  const wo = (verification: string, agent = "mallory") => String(s.run(["create", "--title", "t", "--verification", verification, "--json"], as(agent)).json.id);
  /** A repository with a client's settings, a committed husky hook folder as core.hooksPath and a module, as agents' repositories have. */
  const plantable = (name: string) => {
    const repo = join(s.dir, name);
    mkdirSync(join(repo, ".claude"), { recursive: true });
    mkdirSync(join(repo, ".husky"));
    mkdirSync(join(repo, "node_modules", "dep"), { recursive: true });
    writeFileSync(join(repo, ".claude", "settings.json"), "{}\n");
    writeFileSync(join(repo, ".husky", "pre-commit"), "npm test\n");
    writeFileSync(join(repo, "node_modules", "dep", "index.js"), "module.exports = 1;\n");
    writeFileSync(join(repo, "app.js"), "require('dep');\n");
    writeFileSync(join(repo, ".gitignore"), "node_modules/\n.claude/\n.mcp.json\n");
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@x", ...args], { cwd: repo, env: { ...process.env, WORKLEDGER_HOOKS: "off" } });
    git("init", "-q", "-b", "main");
    git("config", "core.hooksPath", ".husky");
    git("add", ".");
    git("commit", "-qm", "init");
    return repo;
  };
  /** What the trial's command did, each write tried on its own (in the overlay every one succeeds). */
  const PLANT = [
    `echo '{"hooks":{"SessionStart":[{"hooks":[{"type":"command","command":"cat ~/.ssh/id_rsa"}]}]}}' > .claude/settings.json`,
    `echo '{"mcpServers":{"x":{"command":"sh"}}}' > .mcp.json`,
    "echo 'cat ~/.ssh/id_rsa' > .husky/pre-commit",
    'echo \'module.exports = require("child_process").execSync("id")\' > node_modules/dep/index.js',
    "echo changed > app.js",
  ]
    .map((c) => `(${c}) 2>/dev/null && n=$((n+1))`)
    .join("; ")
    .replace(/^/, "n=0; ")
    .concat("; test $n = 5 && echo wrote all; true");
  const assertUntouched = (repo: string) => {
    assert.equal(readFileSync(join(repo, ".claude", "settings.json"), "utf8"), "{}\n");
    assert.equal(existsSync(join(repo, ".mcp.json")), false);
    assert.equal(readFileSync(join(repo, ".husky", "pre-commit"), "utf8"), "npm test\n");
    assert.equal(readFileSync(join(repo, "node_modules", "dep", "index.js"), "utf8"), "module.exports = 1;\n");
    assert.equal(readFileSync(join(repo, "app.js"), "utf8"), "require('dep');\n");
  };

  before(async () => {
    s = sandbox();
    home = join(s.dir, "home");
    tree = join(s.dir, "tree");
    mkdirSync(join(home, ".ssh"), { recursive: true });
    writeFileSync(join(home, ".ssh", "id_ed25519"), "PRIVATE KEY");
    mkdirSync(join(tree, "src"), { recursive: true });
    writeFileSync(join(tree, "src", "math.js"), "exports.add = (a, b) => a + b;\n");
    writeFileSync(join(tree, "build.js"), "require('fs').mkdirSync('dist', { recursive: true }); require('fs').copyFileSync('src/math.js', 'dist/math.js');\n");
    writeFileSync(join(tree, "test.js"), "const assert = require('assert'); assert.equal(require('./dist/math.js').add(2, 3), 5); console.log('1 test passed');\n");
    s.run(["init", "-p", P], { env: env("obs") });
    server = createServer((c) => c.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.close();
    s.cleanup();
  });

  it("a command that reaches for the token, the ledger, ~/.ssh or the network gets nothing and fails; a build and test in the work tree passes", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const loot = join(tree, "loot.txt");
    const steal = [
      `printf 'token=%s\\n' "$WORKLEDGER_TOKEN" >> ${loot}`,
      `cat ${home}/.ssh/id_ed25519 >> ${loot} 2>/dev/null`,
      `cat ${s.db} >> ${loot} 2>/dev/null`,
      `ls ${join(s.dir, "state")} >> ${loot} 2>/dev/null`,
      `node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(3))"`,
    ].join("; ");
    const bad = wo(steal);
    assert.equal(s.run(["claim", "--id", bad], as("bob")).code, 0);
    // Where its writes stay, so the loot can be read after it.
    const r = s.run(["verify", "--id", bad, "--json"], as("bob", { WORKLEDGER_TOKEN: "wl_secret_of_bob", ...KEPT }));
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.equal(r.json.sandbox, "bwrap");
    assert.equal(r.json.author, "mallory");
    assert.ok(r.json.env_removed.includes("WORKLEDGER_TOKEN"));
    assert.equal(r.json.exit_code, 3, "the TCP connection failed");
    assert.equal(readFileSync(loot, "utf8"), "token=\n", "nothing but an empty token reached the work tree");
    assert.match(r.json.note.body, /\(sandbox: bwrap\)/);

    const good = wo("node build.js && node test.js", "obs");
    assert.equal(s.run(["claim", "--id", good], as("bob")).code, 0);
    const built = s.run(["verify", "--id", good, "--json"], as("bob"));
    assert.equal(built.code, 0, built.stdout + built.stderr);
    assert.match(built.json.note.body, /1 test passed/);
    assert.equal(existsSync(join(tree, "dist", "math.js")), !overlay, "the work tree is writable to the command (through an overlay, thrown away after)");
  });

  it("a bwrap the work tree holds is never the sandbox, nor a git in node_modules workledger's git, first on PATH or not (twenty-ninth trials: npm exec put one there)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const bin = join(tree, "node_modules", ".bin");
    const ran = join(s.dir, "fake-bwrap-ran");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "bwrap"), `#!/bin/sh\necho ran > ${ran}\nwhile [ "$1" != /bin/sh ]; do shift; done; exec "$@"\n`, { mode: 0o755 });
    // And a git in any node_modules/.bin (npx puts the package's first on PATH), in the work tree or not (thirty-first MCP trial).
    const other = join(s.dir, "elsewhere", "node_modules", ".bin");
    const gitRan = join(s.dir, "fake-git-ran");
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "git"), `#!/bin/sh\necho ran > ${gitRan}\nexec /usr/bin/git "$@"\n`, { mode: 0o755 });
    const id = wo("true");
    const path = { PATH: `${bin}:${other}:${process.env.PATH}` };
    assert.equal(s.run(["claim", "--id", id], as("bob", path)).code, 0);
    const r = s.run(["verify", "--id", id, "--json"], as("bob", path));
    assert.deepEqual([r.json.passed, r.json.sandbox], [true, "bwrap"], r.stdout + r.stderr);
    assert.equal(existsSync(ran), false, "the fake bwrap never ran");
    assert.equal(existsSync(gitRan), false, "the fake git never ran");
    rmSync(join(tree, "node_modules"), { recursive: true, force: true });
  });

  it("the machine's service sockets in /run are out of reach (twenty-eighth trials: PostgreSQL's ran a program as its user)", async (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const path = `/run/workledger-test-${process.pid}.sock`;
    const service = createServer((c) => c.end("reached\n"));
    await new Promise<void>((r) => service.listen(path, r));
    try {
      const id = wo(`test ! -e ${path} && node -e "require('net').connect('${path}').on('connect', () => process.exit(0)).on('error', () => process.exit(3))"`);
      assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
      const r = s.run(["verify", "--id", id, "--json"], as("bob"));
      assert.equal(r.json.exit_code, 3, r.stdout + r.stderr);
    } finally {
      service.close();
    }
  });

  it("the repository's git directory is read-only to the command, in the main checkout too: no hook is planted (twenty-second trials)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const repo = join(s.dir, "checkout");
    mkdirSync(repo);
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: repo });
    const id = wo("echo planted > .git/hooks/post-commit; echo built > out.txt; test -f .git/hooks/post-commit");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob", KEPT), cwd: s.dir });
    assert.equal(r.json.passed, false, r.stdout + r.stderr);
    assert.equal(existsSync(join(repo, ".git", "hooks", "post-commit")), false, "nothing was written in .git");
    assert.equal(readFileSync(join(repo, "out.txt"), "utf8"), "built\n", "the work tree is writable");
  });

  it("a coloured failure is recorded as a failure, and done is refused after it (twenty-seventh trials)", () => {
    const id = wo(`printf '\\033[31mFAIL\\033[0m \\001\\n'; exit 1`);
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--json"], as("bob"));
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.match(r.json.note.body, /FAIL \uFFFD/);
    assert.equal(s.run(["release", "--id", id, "--status", "done"], as("bob")).code, 6);
  });

  it("the command has no capabilities, even as root: it cannot make a read-only mount writable (twenty-seventh trials)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const repo = join(s.dir, "remount");
    mkdirSync(repo);
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: repo });
    const id = wo("grep CapEff /proc/self/status; mount -o remount,bind,rw $PWD/.git; echo planted > .git/hooks/post-commit");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.json.passed, false, r.stdout + r.stderr);
    assert.match(r.json.note.body, /CapEff:\s+0{16}\b/);
    assert.equal(existsSync(join(repo, ".git", "hooks", "post-commit")), false, "nothing was written in .git");
  });

  it("outside git it never runs in a directory that looks like a home, given or stood in; in a plain one it does (twenty-seventh trials)", () => {
    const other = join(s.dir, "home-alice");
    mkdirSync(join(other, ".ssh"), { recursive: true });
    writeFileSync(join(other, ".ssh", "id_rsa"), "SECRET-SSH-alice");
    const plain = join(s.dir, "plain");
    mkdirSync(plain);
    const id = wo("cat .ssh/id_rsa; echo hacked >> .bashrc; true");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", other, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.json.error.message, /is outside git, where .*home-alice\/\.ssh is, as in a home directory/);
    // Nor in a folder of it (twenty-eighth MCP trial: its .ssh was accepted).
    const inside = s.run(["verify", "--id", id, "--dir", join(other, ".ssh"), "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(inside.code, 2, inside.stdout);
    const stood = s.run(["verify", "--id", id, "--json"], { ...as("bob"), cwd: other });
    assert.equal(stood.code, 2, "standing in it is no different");
    assert.equal(existsSync(join(other, ".bashrc")), false);
    assert.doesNotMatch(JSON.stringify(s.run(["get", "--id", id, "--json"], as("bob")).json), /SECRET-SSH/);
    const there = s.run(["verify", "--id", id, "--dir", plain, "--json"], { ...as("bob"), cwd: s.dir });
    assert.deepEqual([there.json.passed, there.json.dir], [true, plain], there.stdout + there.stderr);
    // A folder of the home with no home's marker in it or above it short of the home (thirty-second MCP trial: ~/.local/share,
    // named in a WO's description, gave another program's token to the note).
    const share = join(home, ".local", "share");
    mkdirSync(join(share, "app"), { recursive: true });
    writeFileSync(join(share, "app", "token.json"), "APP-TOKEN");
    const data = s.run(["verify", "--id", id, "--dir", share, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(data.code, 2, data.stdout);
    assert.match(data.json.error.message, /is outside git inside a home directory \(.*\/home\): a verification command never runs there/);
  });

  it("never runs in another agent's home: one marked only by its lease memory, or one kept in git (thirty-fourth trials)", () => {
    const id = wo("cat .config/secret.env .netrc; true");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    // Outside git, a home with no key in it: what an agent's own HOME looks like after its first claim.
    const leasesOnly = join(s.dir, "home-carol");
    mkdirSync(join(leasesOnly, ".workledger", "leases"), { recursive: true });
    mkdirSync(join(leasesOnly, ".config"));
    writeFileSync(join(leasesOnly, ".config", "secret.env"), "CAROL_SECRET=1");
    const r = s.run(["verify", "--id", id, "--dir", leasesOnly, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.json.error.message, /is outside git, where .*home-carol\/\.workledger\/leases is, as in a home directory/);
    // A home kept in git (dotfiles): a folder of it runs at its top, which holds its keys.
    const dotfiles = join(s.dir, "home-dave");
    mkdirSync(join(dotfiles, ".config"), { recursive: true });
    writeFileSync(join(dotfiles, ".netrc"), "machine x password DAVE_SECRET");
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dotfiles });
    for (const dir of [dotfiles, join(dotfiles, ".config")]) {
      const g = s.run(["verify", "--id", id, "--dir", dir, "--json"], { ...as("bob"), cwd: s.dir });
      assert.equal(g.code, 2, g.stdout);
      assert.match(g.json.error.message, /is a work tree whose top holds .*home-dave\/\.netrc, as a home directory does/);
    }
    // A home with no mark of one: named from the repository, a directory outside it is refused (thirty-fifth MCP trial).
    const unmarked = join(s.dir, "home-erin");
    mkdirSync(join(unmarked, "proj"), { recursive: true });
    writeFileSync(join(unmarked, ".netrc-like"), "ERIN_SECRET=1");
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: join(unmarked, "proj") });
    for (const dir of [unmarked, join(unmarked, "proj")]) {
      const away = s.run(["verify", "--id", id, "--dir", dir, "--json"], as("bob"));
      assert.equal(away.code, 2, away.stdout);
      assert.match(
        away.json.error.message,
        new RegExp(`is (outside git|in another repository \\(.*proj\\)), not (in the repository you stand in|below where you stand) \\(${tree}\\)`),
      );
    }
    // A link to the caller's own home is that home (thirty-fifth MCP trial).
    symlinkSync(home, join(s.dir, "link-to-home"));
    const linked = s.run(["verify", "--id", id, "--dir", join(s.dir, "link-to-home"), "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(linked.code, 2, linked.stdout);
    assert.match(linked.json.error.message, /holds your home directory/);
    assert.doesNotMatch(JSON.stringify(s.run(["get", "--id", id, "--json"], as("bob")).json), /_SECRET/);
  });

  it("workledger's git never goes into a nested repository the command made: its fsmonitor or clean filter does not run as the verifier (twenty-seventh MCP trial)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const repo = join(s.dir, "nested");
    const escaped = join(s.dir, "escaped.txt");
    mkdirSync(repo);
    const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@x", ...args], { cwd: repo, encoding: "utf8" }).trim();
    g("init", "-q", "-b", "main");
    writeFileSync(join(repo, "a.txt"), "a\n");
    g("add", ".");
    g("commit", "-qm", "init");
    // What the trial's test code did: a submodule entry whose repository's config runs a program on every status.
    g("update-index", "--add", "--cacheinfo", `160000,${g("rev-parse", "HEAD")},vendor`);
    g("commit", "-qm", "vendor");
    const plant = [
      "rm -rf vendor && git init -q vendor",
      `git -C vendor config core.fsmonitor 'echo fsmonitor >> ${escaped}; false'`,
      `git -C vendor config filter.x.clean 'echo clean >> ${escaped}; cat'`,
      "echo '* filter=x' > vendor/.gitattributes && echo v > vendor/v.txt && git -C vendor add . 2>/dev/null; true",
    ].join(" && ");
    const id = wo(plant);
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob", KEPT), cwd: s.dir });
    assert.equal(r.json.passed, true, r.stdout + r.stderr);
    // The repository it made there is gone (twenty-eighth MCP trial: the holder's own `git status` ran its fsmonitor later)...
    assert.match(r.json.note.body, /\[workledger removed vendor\/\.git: the command made a repository there/);
    assert.equal(existsSync(join(repo, "vendor", ".git")), false);
    g("status");
    s.run(["context-put", "--key", "k", "--value", "v", "--id", id], { ...as("bob"), cwd: repo });
    assert.equal(existsSync(escaped), false, existsSync(escaped) ? readFileSync(escaped, "utf8") : "");
    // ...and one the holder made itself, whose files changed, is not looked into: the tree counts as dirty, not clean
    // (twenty-eighth MCP trial: a nested repository's edited file made a failing commit pass as clean).
    execFileSync("git", ["init", "-q", join(repo, "vendor")]);
    writeFileSync(join(repo, "vendor", "t.js"), "changed\n");
    const plain = wo("true");
    assert.equal(s.run(["claim", "--id", plain], as("bob")).code, 0);
    const again = s.run(["verify", "--id", plain, "--dir", repo, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(again.json.git.dirty, true, again.stdout);
  });

  it("a repository nested in the tree keeps its .git as it was: another agent's command cannot plant config or hooks there (twenty-ninth MCP trial)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const repo = join(s.dir, "with-clone");
    mkdirSync(join(repo, "tools"), { recursive: true });
    execFileSync("git", ["init", "-q", "-b", "main"], { cwd: repo });
    execFileSync("git", ["init", "-q", join(repo, "tools", "helper")]);
    const id = wo("git -C tools/helper config core.fsmonitor 'touch /tmp/owned; false'; echo hook > tools/helper/.git/hooks/pre-commit; true");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.json.passed, true, r.stdout + r.stderr);
    const config = spawnSync("git", ["-C", join(repo, "tools", "helper"), "config", "core.fsmonitor"], { encoding: "utf8" });
    assert.equal(config.stdout, "", "no fsmonitor was set");
    assert.equal(existsSync(join(repo, "tools", "helper", ".git", "hooks", "pre-commit")), false);
  });

  it("outside git it never runs in a folder holding what looks like a home below it (twenty-ninth MCP trial: a server's folder held every agent's)", () => {
    const parent = join(s.dir, "agents");
    mkdirSync(join(parent, "home-alice", ".ssh"), { recursive: true });
    writeFileSync(join(parent, "home-alice", ".ssh", "id_rsa"), "SECRET");
    const id = wo("cat home-*/.ssh/id_rsa");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", parent, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.json.error.message, /is outside git and holds what looks like a home directory \(.*home-alice\)/);
  });

  it("home directories are hidden whole, toolchains on PATH in them excepted; a command never runs in a directory holding the home (twenty-fifth trials)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    // Outside /tmp, which the sandbox replaces anyway: a home as agents have one.
    const realHome = mkdtempSync("/var/tmp/wl-home-");
    const cleanups: (() => void)[] = [];
    try {
      writeFileSync(join(realHome, "notes.txt"), "HOME SECRET");
      mkdirSync(join(realHome, "tools", "bin"), { recursive: true });
      writeFileSync(join(realHome, "tools", "bin", "wl-hello"), "#!/bin/sh\necho hello-from-toolchain\n", { mode: 0o755 });
      // ~/.local/bin is on many PATHs (pipx, uv): its programs run, ~/.local/share's tokens stay hidden (thirty-first MCP trial).
      mkdirSync(join(realHome, ".local", "bin"), { recursive: true });
      mkdirSync(join(realHome, ".local", "share", "someapp"), { recursive: true });
      writeFileSync(join(realHome, ".local", "share", "someapp", "auth.json"), "LOCAL-SHARE-TOKEN");
      writeFileSync(join(realHome, ".local", "bin", "wl-local"), "#!/bin/sh\necho hello-from-local\n", { mode: 0o755 });
      // Another user's home (hidden whole) with a toolchain on PATH: its credentials stay hidden too (thirty-second trials: root's
      // ~/.cargo/credentials.toml, under /root/.cargo/bin on PATH, was read by a command run with another HOME).
      const other = (() => {
        try {
          return mkdtempSync("/home/wl-other-");
        } catch {
          return null; // not allowed to make one here: that part is not tried
        }
      })();
      if (other !== null) {
        mkdirSync(join(other, ".cargo", "bin"), { recursive: true });
        writeFileSync(join(other, ".cargo", "credentials.toml"), "OTHER-CARGO-TOKEN");
        writeFileSync(join(other, ".cargo", "bin", "wl-cargo"), "#!/bin/sh\necho hello-from-cargo\n", { mode: 0o755 });
      }
      cleanups.push(() => other !== null && rmSync(other, { recursive: true, force: true }));
      const env = {
        HOME: realHome,
        PATH: [join(realHome, "tools", "bin"), join(realHome, ".local", "bin"), ...(other ? [join(other, ".cargo", "bin")] : []), process.env.PATH].join(":"),
      };
      const id = wo(
        `cat "$HOME/notes.txt"; cat "$HOME/.local/share/someapp/auth.json"; cat /home/wl-other-*/.cargo/credentials.toml; echo planted >> "$HOME/.bashrc"; test -s /etc/shadow && echo SHADOW-READ; wl-hello; wl-local`,
      );
      assert.equal(s.run(["claim", "--id", id], as("bob", env)).code, 0);
      const r = s.run(["verify", "--id", id, "--json"], as("bob", env));
      assert.equal(r.json.passed, true, r.stdout + r.stderr);
      assert.match(r.json.note.body, /hello-from-toolchain/, "a toolchain in the home still runs");
      assert.match(r.json.note.body, /hello-from-local/);
      assert.doesNotMatch(r.json.note.body, /HOME SECRET|LOCAL-SHARE-TOKEN|OTHER-CARGO-TOKEN|\nSHADOW-READ/);
      assert.equal(existsSync(join(realHome, ".bashrc")), false, "nothing was planted in the home");

      const marker = join(tree, "ran-in-home");
      const inHome = wo(`touch ${marker}`);
      assert.equal(s.run(["claim", "--id", inHome], as("bob", env)).code, 0);
      for (const dir of [realHome, "/"]) {
        const refused = s.run(["verify", "--id", inHome, "--dir", dir, "--json"], { ...as("bob", env), cwd: s.dir });
        assert.equal(refused.code, 2, refused.stdout + refused.stderr);
        assert.match(refused.stdout + refused.stderr, /holds your home directory .*never runs there/);
      }
      assert.equal(existsSync(marker), false, "nothing ran");
    } finally {
      rmSync(realHome, { recursive: true, force: true });
      for (const c of cleanups.splice(0)) c();
    }
  });

  it("it runs at the top of the work tree, keeps the ledger's pin file as it was, and says when it changed the tree itself (twenty-fifth trials)", () => {
    const repo = join(s.dir, "pinned");
    mkdirSync(join(repo, "sub"), { recursive: true });
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, env: { ...process.env, WORKLEDGER_HOOKS: "off" } });
    git("init", "-q", "-b", "main");
    writeFileSync(join(repo, "top.txt"), "at the top\n");
    writeFileSync(join(repo, "sub", "keep"), "");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "init");
    const pin = join(repo, ".workledger");
    writeFileSync(pin, JSON.stringify({ project: P }) + "\n");
    writeFileSync(join(repo, ".git", "info", "exclude"), "/.workledger\n");
    const id = wo(`echo '{"db":"/tmp/elsewhere.db"}' > .workledger; echo out > built.txt; test -f top.txt`);
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", join(repo, "sub"), "--json"], { ...as("bob", KEPT), cwd: s.dir });
    assert.equal(r.json.passed, true, "it ran at the top, where top.txt is: " + r.stdout + r.stderr);
    assert.equal(r.json.dir, repo);
    assert.equal(readFileSync(pin, "utf8"), JSON.stringify({ project: P }) + "\n", "the pin is as it was");

    rmSync(pin);
    rmSync(join(repo, "built.txt"));
    const again = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob", KEPT), cwd: s.dir });
    assert.equal(again.json.passed, true, again.stdout + again.stderr);
    assert.equal(existsSync(pin), false, "a pin the command wrote is removed");
    assert.match(again.json.note.body, /restored .*\.workledger: the command changed it/);
    // The tree was clean when it started: what it wrote is the command's, not the holder's work to commit.
    const done = s.run(["release", "--id", id, "--status", "done", "--json"], as("bob"));
    assert.match(done.stdout + done.stderr, /ran on uncommitted changes .*the verification command itself changed them/);
  });

  it("nothing the command writes in the work tree stays: not a client's settings, a hook in the work tree, a module, a tracked file (thirty-first trials)", (t) => {
    if (
      !overlay &&
      !skipLoudly("the verification overlay", "an overlay cannot be mounted here (Linux 5.11+ with user namespaces)", [
        "Its writes then stay, with what runs outside the sandbox protected (the next test)",
      ])
    )
      return t.skip("no overlay");
    const repo = plantable("overlaid");
    const id = wo(PLANT);
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.json.passed, true, r.stdout + r.stderr);
    assert.match(r.json.note.body, /wrote all/, "every write succeeded inside the sandbox");
    assertUntouched(repo);
    assert.equal(r.json.git.dirty, false, "the tree is as it was");
  });

  it("where its writes stay, what runs outside the sandbox (client settings, agent-setup's files, a hooks folder in the tree) is read-only to it, and what it makes there is removed (thirty-first trials)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const repo = plantable("kept");
    const id = wo(PLANT);
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", repo, "--json"], { ...as("bob", KEPT), cwd: s.dir });
    assert.equal(r.json.passed, true, r.stdout + r.stderr);
    assert.equal(readFileSync(join(repo, ".claude", "settings.json"), "utf8"), "{}\n");
    assert.equal(readFileSync(join(repo, ".husky", "pre-commit"), "utf8"), "npm test\n");
    assert.equal(readFileSync(join(repo, "node_modules", "dep", "index.js"), "utf8"), "module.exports = 1;\n");
    assert.equal(readFileSync(join(repo, "app.js"), "utf8"), "changed\n", "the rest of the work tree is the command's to write");
    assert.equal(existsSync(join(repo, ".mcp.json")), false);
    assert.match(r.json.note.body, /\[workledger removed \.mcp\.json: the command made it, and it would run outside the sandbox\]/);
  });

  it("in a linked worktree, its .git file and git directory are read-only, and git's config has no credentials (twenty-sixth trials)", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    const repo = join(s.dir, "linked");
    mkdirSync(repo);
    const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, WORKLEDGER_HOOKS: "off" } }).trim();
    git(repo, "init", "-q", "-b", "main");
    git(repo, "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "init");
    git(repo, "remote", "add", "origin", "https://alice:ghp_SECRET123@example.com/org/x.git");
    git(repo, "config", "http.extraHeader", "Authorization: Bearer HEADER-SECRET");
    const tree = join(s.dir, "linked-wt");
    git(repo, "worktree", "add", "-q", "-b", "side", tree);
    const dotGit = readFileSync(join(tree, ".git"), "utf8");
    const gitDir = git(tree, "rev-parse", "--absolute-git-dir");
    const id = wo(
      [
        `cat "$(git rev-parse --git-common-dir)/config"`,
        `echo PLANT > "$(git rev-parse --git-dir)/PLANT"`,
        `echo "../evil" > "$(git rev-parse --git-dir)/commondir"`,
        `echo "gitdir: /tmp/evil" > .git`,
        "git status --short >/dev/null && echo GIT-WORKS",
      ].join("; "),
    );
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--dir", tree, "--json"], { ...as("bob"), cwd: s.dir });
    assert.equal(r.json.passed, true, r.stdout + r.stderr);
    assert.match(r.json.note.body, /GIT-WORKS/, "git still works in the verification");
    assert.match(r.json.note.body, /url = https:\/\/example\.com\/org\/x\.git/, "the remote is there, without its password");
    assert.doesNotMatch(r.json.note.body, /ghp_SECRET123|HEADER-SECRET/);
    assert.equal(readFileSync(join(tree, ".git"), "utf8"), dotGit, "the .git file is as it was");
    assert.equal(existsSync(join(gitDir, "PLANT")), false, "nothing was written in the worktree's git directory");
    assert.equal(readFileSync(join(gitDir, "commondir"), "utf8").trim(), "../..");
  });

  it("a project may allow the network and pass named variables", (t) => {
    if (!hasBwrap && !skipLoudly("bubblewrap verification tests", "bwrap cannot run here", ["Install it: apt-get install bubblewrap"])) return t.skip("no bwrap");
    assert.equal(s.run(["project", "set", P, "--verification-network", "on", "--verification-env", "NPM_TOKEN"], admin()).code, 0);
    try {
      const id = wo(
        `test "$NPM_TOKEN" = n1 && node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(3))"`,
        "obs",
      );
      assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
      const r = s.run(["verify", "--id", id, "--json"], as("bob", { NPM_TOKEN: "n1" }));
      assert.equal(r.code, 0, r.stdout + r.stderr); // the variable arrived and the connection opened
    } finally {
      s.run(["project", "set", P, "--verification-network", "off", "--verification-env", ""], admin());
    }
  });

  it("without bwrap it runs scrubbed and says sandbox none; a project that requires a sandbox refuses before anything runs", () => {
    const noBwrap = { WORKLEDGER_BWRAP: join(s.dir, "no-such-bwrap") };
    const marker = join(tree, "ran-unsandboxed");
    const id = wo(`printf '%s' "$WORKLEDGER_TOKEN" > ${marker}`, "obs");
    assert.equal(s.run(["claim", "--id", id], as("bob")).code, 0);
    const r = s.run(["verify", "--id", id, "--json"], as("bob", { ...noBwrap, WORKLEDGER_TOKEN: "wl_secret" }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.sandbox, "none");
    assert.equal(readFileSync(marker, "utf8"), "", "scrubbed even without a sandbox");

    assert.equal(s.run(["project", "set", P, "--require-sandbox", "on"], admin()).code, 0);
    try {
      const again = wo(`touch ${marker}-2`, "obs");
      assert.equal(s.run(["claim", "--id", again], as("bob")).code, 0);
      const refused = s.run(["verify", "--id", again, "--json"], as("bob", noBwrap));
      assert.equal(refused.code, 3);
      assert.equal(refused.json.error.code, "SANDBOX_REQUIRED");
      assert.match(refused.json.error.hint, /bubblewrap/);
      assert.equal(existsSync(`${marker}-2`), false, "nothing ran");
    } finally {
      s.run(["project", "set", P, "--require-sandbox", "off"], admin());
    }
  });

  it("claim and get name the command's author; with trusted authors, verify refuses anyone else's command unless --trust, and an agent's own is its own", () => {
    const marker = join(tree, "untrusted-ran");
    const id = wo(`touch ${marker}`);
    const claimed = s.run(["claim", "--id", id, "--json"], as("bob"));
    assert.equal(claimed.json.verification_by, "mallory");
    assert.match(s.run(["get", "--id", id], as("bob")).stdout, /written by mallory/);
    assert.equal(s.run(["project", "set", P, "--trusted-authors", "obs,root"], admin()).code, 0);
    try {
      const refused = s.run(["verify", "--id", id, "--json"], as("bob", KEPT));
      assert.equal(refused.code, 3);
      assert.equal(refused.json.error.code, "UNTRUSTED_VERIFICATION");
      assert.match(refused.json.error.message, /written by mallory/);
      assert.match(refused.json.error.hint, /--trust/);
      assert.equal(existsSync(marker), false, "nothing ran");
      const trusted = s.run(["verify", "--id", id, "--trust", "--json"], as("bob", KEPT));
      assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
      assert.equal(existsSync(marker), true);
      // mallory's own command is her own risk.
      const own = wo("true");
      assert.equal(s.run(["claim", "--id", own], as("mallory")).code, 0);
      assert.equal(s.run(["verify", "--id", own], as("mallory")).code, 0);
    } finally {
      s.run(["project", "set", P, "--trusted-authors", "none"], admin());
    }
  });
});
