/**
 * export and import (issue 29): a ledger moves between stores with nothing
 * lost (SQLite → PostgreSQL → SQLite gives the same export), into a
 * PostgreSQL ledger other agents are using, and a bad or cut file is refused
 * before it writes what it cannot write whole.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { CLI, sandbox, type Sandbox } from "../helpers/cli.ts";
import { serve } from "../helpers/serve.ts";
import { sleep, until } from "../helpers/util.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";

const ADMIN = { WORKLEDGER_ROLE: "admin" };
const as = (agent: string, project = "moved") => ({ WORKLEDGER_AGENT: agent, WORKLEDGER_PROJECT: project });
/** The export without its header's time and store, which differ by design. */
const body = (text: string) => text.split("\n").slice(1).join("\n");

describe("CLI: export and import move a ledger between stores (issue 29)", () => {
  let s: Sandbox;
  let schema: string | null = null;
  let pgUrl = "";
  let exported = "";

  before(async () => {
    s = sandbox();
    // A ledger with some history: dependencies, a lapsed lease, a takeover, notes, context, spend, a checkpoint-free done, a token.
    const run = (args: string[], env: Record<string, string>) => {
      const r = s.run(args, { env });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    run(["create", "--new-project", "--title", "Parser", "--verification", "true", "--label", "core"], as("alice"));
    run(["create", "--title", "Docs", "--depends-on", "1", "--priority", "P1"], as("alice"));
    run(["create", "--title", "Ünïcode ✓ title"], as("alice"));
    // Long enough for the note under a loaded machine's CLI start-up, waited out to its end.
    const lapsing = JSON.parse(run(["claim", "--id", "1", "--ttl", "4s", "--json"], as("bob")).stdout).lease.expires_at as string;
    run(["add-note", "--id", "1", "-m", "started"], as("bob"));
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(lapsing) - Date.now()) + 300));
    run(["claim", "--id", "1"], as("carol"));
    run(["spend", "--id", "1", "--tokens-in", "1200", "--tokens-out", "300", "--cost-usd", "0.25"], as("carol"));
    run(["verify", "--id", "1"], as("carol"));
    run(["context-put", "--id", "1", "--key", "handover", "-m", "parser done; docs next"], as("carol"));
    run(["release", "--id", "1", "--status", "done"], as("carol"));
    run(["context-put", "--key", "decision", "-m", "use tabs"], as("alice"));
    run(["claim", "--id", "2"], as("dave"));
    run(["create", "--new-project", "--title", "Other project's work"], as("alice", "second"));
    run(["token", "create", "--agent", "erin", "--role", "agent"], ADMIN);
  });
  after(async () => {
    s.cleanup();
    if (schema) await dropSchema(schema);
  });

  it("SQLite → PostgreSQL → SQLite: the same export each time; ids, tokens, revisions and times kept; the ledger works on", async (t) => {
    const out = s.run(["export"], { env: ADMIN });
    assert.equal(out.code, 0, out.stderr);
    exported = out.stdout;
    const lines = exported
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; record?: Record<string, unknown> });
    assert.deepEqual(lines[0]!.type, "header");
    assert.deepEqual((lines[0] as unknown as { projects: string[] }).projects, ["moved", "second"]);
    assert.equal(lines.at(-1)!.type, "end");
    assert.ok(
      lines.some((l) => l.type === "token" && l.record!.agent === "erin" && typeof l.record!.hash === "string" && !("token" in l.record!)),
      "a token's record, never its secret",
    );
    assert.match(out.stderr, /exported 2 project\(s\), \d+ lines/);

    if (!(await requirePostgres("export/import"))) return t.skip("PostgreSQL unreachable");
    schema = uniqueSchema("wl_archive");
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    await client.end();
    pgUrl = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    const onPg = { ...ADMIN, WORKLEDGER_DATABASE_URL: pgUrl };
    const imported = s.run(["import", "--json"], { env: onPg, input: exported });
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(
      imported.json.projects.map((p: { name: string; work_orders: number }) => [p.name, p.work_orders]),
      [
        ["moved", 3],
        ["second", 1],
      ],
    );
    const fromPg = s.run(["export"], { env: onPg });
    assert.equal(fromPg.code, 0, fromPg.stderr);
    assert.equal(body(fromPg.stdout), body(exported), "PostgreSQL's export is SQLite's");
    writeFileSync(join(s.dir, "from-pg.jsonl"), fromPg.stdout);
    const back = { ...ADMIN, WORKLEDGER_DB: join(s.dir, "back.db") };
    assert.equal(s.run(["import", join(s.dir, "from-pg.jsonl")], { env: back }).code, 0);
    assert.equal(body(s.run(["export"], { env: back }).stdout), body(exported), "and back on SQLite, the same again");

    // The moved ledger works on: dave still holds WO-2 under the same token; the next create takes id 4.
    const two = s.run(["get", "--id", "2", "--json"], { env: { ...as("dave"), WORKLEDGER_DATABASE_URL: pgUrl } }).json;
    assert.deepEqual([two.status, two.lease.agent, two.lease.token], ["claimed", "dave", 1]);
    assert.equal(s.run(["release", "--id", "2", "--status", "done"], { env: { ...as("dave"), WORKLEDGER_DATABASE_URL: pgUrl } }).code, 0);
    assert.equal(s.run(["create", "--title", "After the move", "--json"], { env: { ...as("alice"), WORKLEDGER_DATABASE_URL: pgUrl } }).json.id, 4);
    const handover = s.run(["get", "--id", "1", "--json"], { env: { ...as("erin"), WORKLEDGER_DATABASE_URL: pgUrl } }).json;
    assert.equal(handover.context.linked.body, "parser done; docs next");
    assert.deepEqual(
      handover.notes.map((n: { agent: string; kind: string }) => [n.agent, n.kind]),
      [
        ["bob", "progress"],
        ["carol", "verification"],
      ],
    );
  });

  it("into PostgreSQL while agents work in another project there; a project that holds work is refused", async (t) => {
    if (!pgUrl) return t.skip("PostgreSQL unreachable");
    const onPg = (env: Record<string, string>) => ({ ...env, WORKLEDGER_DATABASE_URL: pgUrl });
    // Agents keep claiming and finishing in "busy" while a new project arrives.
    for (let i = 0; i < 20; i++) assert.equal(s.run(["create", ...(i ? [] : ["--new-project"]), "--title", `busy ${i}`], { env: onPg(as("alice", "busy")) }).code, 0);
    const third = s.run(["export", "--project", "moved"], { env: ADMIN }).stdout.replace(/"moved"/g, '"third"');
    const file = join(s.dir, "third.jsonl");
    writeFileSync(file, third);
    const idOf = `node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).id)}catch{}})'`;
    const loop = `for i in 1 2 3 4 5 6; do id=$(node ${CLI} claim --next --json | ${idOf}); [ -n "$id" ] && node ${CLI} release --id "$id" --status done >/dev/null; done; exit 0`;
    const agents = ["w1", "w2", "w3"].map((w) => shell(loop, { ...process.env, ...s.env, ...onPg(as(w, "busy")) }));
    const imported = await s.spawn(["import", file, "--json"], { env: onPg(ADMIN) });
    await Promise.all(agents);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json.projects[0].name, "third");
    assert.equal(s.run(["list", "-p", "third", "--status", "all", "--json"], { env: onPg(as("x")) }).json.length, 3);
    assert.ok(s.run(["list", "-p", "busy", "--status", "done", "--json"], { env: onPg(as("x")) }).json.length > 0, "the agents' work went on");
    const again = s.run(["import"], { env: onPg(ADMIN), input: third });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /project third already holds work here: import writes only into a project that is new or empty/);
  });

  it("refuses an agent, a file from a newer schema, a file cut short (its last project not written), and what is no export", () => {
    const fresh = (name: string) => ({ ...ADMIN, WORKLEDGER_DB: join(s.dir, `${name}.db`) });
    const agent = s.run(["import"], { env: { ...as("mallory"), WORKLEDGER_DB: join(s.dir, "a.db") }, input: exported });
    assert.equal(agent.code, 9, agent.stderr);
    assert.match(agent.stderr, /only an admin may import a ledger/);
    assert.match(s.run(["export"], { env: as("mallory") }).stderr, /only an admin may export the ledger/);

    const newer = exported.replace(/"schema":\d+/, '"schema":999');
    const r = s.run(["import"], { env: fresh("newer"), input: newer });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /the export comes from a newer workledger \(format 1, schema v999\); this one reads format 1 up to schema v\d+/);

    // Cut inside the second project: the first is in, the second is not.
    const lines = exported.trimEnd().split("\n");
    const cut = lines.slice(0, lines.findIndex((l) => l.includes('"name":"second"')) + 2).join("\n") + "\n";
    const partial = s.run(["import"], { env: fresh("cut"), input: cut });
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /without its end line: it was cut short, inside project second, which was not imported/);
    assert.match(partial.stderr, /projects moved were imported/);
    const names = s.run(["projects", "--json"], { env: fresh("cut") }).json.map((p: { name: string }) => p.name);
    assert.deepEqual(names, ["moved"]);

    const junk = s.run(["import"], { env: fresh("junk"), input: '{"hello":1}\n' });
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /this is not a workledger export/);
    const broken = s.run(["import"], { env: fresh("broken"), input: lines.slice(0, 3).join("\n") + '\n{"type":"work_order","record":{"project":"moved"}}\n' });
    assert.match(broken.stderr, /line 4 of the export: a work_order record without id, title, status/);
  });

  it("--out writes the file whole or not at all", () => {
    const file = join(s.dir, "out.jsonl");
    assert.equal(s.run(["export", "--out", file, "--project", "second"], { env: ADMIN }).code, 0);
    const text = readFileSync(file, "utf8");
    assert.match(text.split("\n")[0]!, /"projects":\["second"\]/);
    const missing = s.run(["export", "--out", join(s.dir, "no-such-dir", "x.jsonl")], { env: ADMIN });
    assert.notEqual(missing.code, 0);
  });

  // Last: it removes the history the tests above export.
  it("prune: an admin's act; archives first into a new file, which import loads; refuses an existing archive and none", () => {
    const args = (file: string) => ["prune", "--before", "1s", "--archive", file, "--project", "moved", "--json"];
    const file = join(s.dir, "pruned.jsonl");
    assert.equal(s.run(args(file), { env: as("bob") }).code, 9, "an agent may not (FORBIDDEN)");
    assert.equal(existsSync(file), false, "no archive of nothing is left behind");
    assert.match(s.run(["prune", "--before", "1s"], { env: ADMIN }).stderr, /--archive is required/);
    const before = s.run(["report", "--since", "1d", "--json"], { env: as("alice") }).json;
    const r = s.run(args(file), { env: ADMIN });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      r.json.projects.map((p: { name: string; work_orders: number }) => [p.name, p.work_orders]),
      [["moved", 1]],
    );
    assert.deepEqual(s.run(["report", "--since", "1d", "--json"], { env: as("alice") }).json.totals, before.totals);
    assert.equal(s.run(["history", "--id", "1", "--json"], { env: as("alice") }).json.length, 0);
    assert.match(s.run(args(file), { env: ADMIN }).json.error.message, /the file exists; prune never writes over an archive/);
    const loaded = s.run(["import", file], { env: { ...ADMIN, WORKLEDGER_DB: join(s.dir, "from-archive.db") } });
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /imported moved: 1 work order\(s\)/);
  });

  it("serve prunes each project that sets prune_after once a day into its --archive-dir, and without one says it does not", async () => {
    for (const args of [
      ["create", "--new-project", "--title", "old"],
      ["claim", "--id", "1"],
      ["release", "--id", "1", "--status", "done"],
    ])
      assert.equal(s.run(args, { env: as("alice", "kept") }).code, 0);
    await sleep(1100);
    const set = s.run(["project", "set", "kept", "--as-admin", "--prune-after", "1s"], { env: as("alice", "kept") });
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /serve prunes work orders finished over 1s ago, daily/);
    const none = await serve(s.env);
    try {
      assert.ok(await until(() => /kept set prune_after, but serve has no --archive-dir: nothing is pruned/.test(none.stderr()), 10_000), none.stderr());
    } finally {
      await none.stop();
    }
    const dir = join(s.dir, "archives");
    mkdirSync(dir);
    const file = join(dir, `kept-${new Date().toISOString().slice(0, 10)}.jsonl`);
    const server = await serve(s.env, ["--archive-dir", dir]);
    try {
      assert.ok(await until(() => /prune: kept: 1 work order\(s\) finished before/.test(server.stderr()), 10_000), server.stderr());
    } finally {
      await server.stop();
    }
    assert.match(readFileSync(file, "utf8"), /"type":"event"/);
    assert.equal(s.run(["history", "--id", "1", "--json"], { env: as("alice", "kept") }).json.length, 0);
    assert.equal(s.run(["history", "--id", "1", "--json"], { env: as("alice", "second") }).json.length > 0, true, "a project without prune_after keeps its history");
  });
});

/** A shell script run alongside (the agents in another project). */
function shell(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => execFile("sh", ["-c", script], { env, timeout: 120_000 }, (e) => (e ? reject(e) : resolve())));
}
