/**
 * backup (issue 29): a consistent copy of a SQLite ledger taken while agents
 * keep writing, checked before it is given its name, and what it refuses.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { until } from "../helpers/util.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";

const ADMIN = { WORKLEDGER_ROLE: "admin" };
const WRITER = new URL("../fixtures/note-writer.mjs", import.meta.url).pathname;

describe("CLI: backup copies a SQLite ledger while agents write (issue 29)", () => {
  let s: Sandbox;
  let schema: string | null = null;
  const writers: ChildProcess[] = [];

  before(() => {
    s = sandbox();
    assert.equal(s.run(["create", "--new-project", "--title", "Busy"], { env: { WORKLEDGER_AGENT: "alice", WORKLEDGER_PROJECT: "kept" } }).code, 0);
  });
  after(async () => {
    for (const w of writers) w.kill("SIGKILL");
    s.cleanup();
    if (schema) await dropSchema(schema);
  });

  it("two writers keep writing through it; the copy holds every note acknowledged before it began, as one moment, and doctor passes on it", async () => {
    const acknowledged: number[] = [];
    for (let i = 0; i < 2; i++) {
      const w = spawn(process.execPath, [WRITER, s.env.WORKLEDGER_DB!, "kept"], { stdio: ["ignore", "pipe", "inherit"] });
      w.stdout!.on("data", (chunk: Buffer) => acknowledged.push(...chunk.toString().split("\n").filter(Boolean).map(Number)));
      writers.push(w);
    }
    assert.ok(await until(() => acknowledged.length >= 2000, 60_000), "the writers write");
    const before = Math.max(...acknowledged);
    const copy = join(s.dir, "copy.db");
    const r = await s.spawn(["backup", copy, "--json"], { env: ADMIN });
    const during = acknowledged.length;
    assert.ok(await until(() => acknowledged.length > during + 50, 30_000), "the writers write on");
    for (const w of writers) w.kill("SIGKILL");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ file: r.json.file, integrity: r.json.integrity }, { file: copy, integrity: "ok" });
    assert.match(r.stderr, /copying .+ledger\.db \(\d+\.\d MB\)…/);
    assert.deepEqual(
      readdirSync(s.dir).filter((f) => f.startsWith("copy.db")),
      ["copy.db"],
      "no partial file left",
    );

    const db = new Database(copy, { readonly: true });
    const { n, last } = db.prepare("SELECT count(*) AS n, max(id) AS last FROM notes").get() as { n: number; last: number };
    db.close();
    assert.ok(last >= before, `every note acknowledged before the backup began is in it (${last} < ${before})`);
    assert.equal(n, last, "one moment: no later note without every earlier one");
    const doctor = s.run(["doctor"], { env: { WORKLEDGER_DB: copy, WORKLEDGER_AGENT: "carol" } });
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    assert.equal(s.run(["get", "--project", "kept", "--id", "1", "--json"], { env: { WORKLEDGER_DB: copy } }).json.title, "Busy");
  });

  it("refuses an agent, a file that exists, a directory that does not, and a PostgreSQL ledger (naming its tools)", async (t) => {
    const agent = s.run(["backup", join(s.dir, "mine.db")], { env: { WORKLEDGER_AGENT: "bob" } });
    assert.notEqual(agent.code, 0);
    assert.match(agent.stderr, /only an admin may back up the ledger/);
    assert.equal(existsSync(join(s.dir, "mine.db")), false);
    const exists = s.run(["backup", join(s.dir, "copy.db")], { env: ADMIN });
    assert.equal(exists.code, 2);
    assert.match(exists.stderr, /copy\.db exists: a backup is written to a new file/);
    const nowhere = s.run(["backup", join(s.dir, "no", "such", "dir.db")], { env: ADMIN });
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /is in a directory that does not exist/);

    if (!(await requirePostgres("backup refusal"))) return t.skip("PostgreSQL unreachable");
    schema = uniqueSchema("wl_backup");
    const url = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const pg = (await import("pg")).default;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    await client.end();
    const onPg = s.run(["backup", join(s.dir, "pg.db")], { env: { ...ADMIN, WORKLEDGER_DATABASE_URL: url } });
    assert.equal(onPg.code, 2, onPg.stderr);
    assert.match(onPg.stderr, /backup copies a SQLite ledger; this one is postgres/);
    assert.match(onPg.stderr, /pg_dump, pg_basebackup, or a standby/);
  });
});
