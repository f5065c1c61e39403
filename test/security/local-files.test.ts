/**
 * Issue 24, findings 13 and 14: local files are private by default, and a
 * state directory another user owns or can write is refused. (Run as root
 * here, "another user" is a directory chowned to nobody.)
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openSqliteStore } from "../../src/storage/sqlite/store.ts";
import { Ledger } from "../../src/core/ledger.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";

const mode = (p: string) => statSync(p).mode & 0o777;

describe("local files are private (issue 24, findings 13 and 14)", () => {
  let s: Sandbox;
  before(() => {
    s = sandbox();
  });
  after(() => s.cleanup());

  it("init makes ~/.workledger 0700 and the ledger 0600, its WAL and shared-memory files too", async () => {
    const home = join(s.dir, "home");
    mkdirSync(home);
    const r = s.run(["init", "-p", "p"], { env: { HOME: home, WORKLEDGER_DB: undefined, WORKLEDGER_AGENT: "a" } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(join(home, ".workledger")), 0o700);
    assert.equal(mode(join(home, ".workledger", "ledger.db")), 0o600);
    const db = join(s.dir, "deep", "er", "l.db");
    const store = openSqliteStore({ path: db });
    const ledger = new Ledger(store);
    await ledger.create({ project: "p", agent: "a", new_project: true, items: [{ title: "t" }] });
    for (const f of [db, `${db}-wal`, `${db}-shm`]) assert.equal(existsSync(f) && mode(f), 0o600, f);
    assert.equal(mode(join(s.dir, "deep")), 0o700);
    await ledger.close();
  });

  it("doctor fails on a ledger every user can read, and says how to fix or share it", () => {
    const env = { WORKLEDGER_AGENT: "a" };
    s.run(["init", "-p", "p"], { env });
    assert.equal(s.run(["doctor", "--json"], { env }).json.checks.find((c: { name: string }) => c.name === "privacy").ok, true);
    chmodSync(s.db, 0o644);
    const r = s.run(["doctor", "--json"], { env });
    assert.notEqual(r.code, 0);
    const check = r.json.checks.find((c: { name: string }) => c.name === "privacy");
    assert.match(check.detail, /readable by every user of this machine \(mode 0644\)/);
    assert.match(check.hint, /chmod 600 .*to share with a group, chmod 660/);
    chmodSync(s.db, 0o600);
  });

  it("a state directory another user owns, or others may write, is refused with a clear error", () => {
    const env = (dir: string) => ({ env: { WORKLEDGER_AGENT: "a", WORKLEDGER_PROJECT: "p", WORKLEDGER_STATE_DIR: dir } });
    s.run(["init", "-p", "p"], env(join(s.dir, "mine")));
    s.run(["create", "--title", "t"], env(join(s.dir, "mine")));
    const shared = join(s.dir, "shared");
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    const writable = s.run(["claim", "--id", "1", "--json"], env(shared));
    assert.equal(writable.code, 2);
    assert.match(writable.json.error.message, /WORKLEDGER_STATE_DIR .*shared is writable by others \(mode 0777\)/);
    const theirs = join(s.dir, "theirs");
    mkdirSync(theirs, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      chownSync(theirs, 65534, 65534);
      const owned = s.run(["claim", "--id", "1", "--json"], env(theirs));
      assert.equal(owned.code, 2);
      assert.match(owned.json.error.message, /belongs to another user \(uid 65534\)/);
    }
    assert.equal(s.run(["claim", "--id", "1"], env(join(s.dir, "mine"))).code, 0, "a directory of one's own is used");
  });
});
