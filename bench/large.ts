/**
 * Large ledgers (issue 29 item 7): one project of 10^6 work orders and about
 * 10^7 events, on SQLite and PostgreSQL, and how long the reads people and
 * agents make most take there, against the same reads on the template of
 * 1,000 work orders it was grown from, in the same run.
 *
 * The template is made through the ledger (claims, notes, spend, context,
 * releases: about ten events a work order); the large ledger is that
 * template copied in SQL, each copy a day older than the next, so a million
 * work orders are about three years of a thousand a day, inserted oldest
 * first so the event log's order follows time, as a real one's does. In the
 * copies, what the template leaves open or blocked is cancelled: a ledger run
 * for years finishes or drops its old work, and its queue is the recent part.
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Ledger } from "../src/core/ledger.ts";
import { openLedger } from "../src/index.ts";
import { progress } from "./progress.ts";
import type { Row } from "./run.ts";

const PROJECT = "big";

/** A copy a day: `report --since 7d` reads a week's work, seven thousand work orders. */
const COPY_STEP_MS = 86_400_000;
/** Older work left open or blocked is cancelled in the copies. */
const FINISHED = "CASE WHEN status IN ('open', 'blocked') THEN 'cancelled' ELSE status END";
const RUNS = 21;
const TARGET_MS = 50;

/** The tables that hold one project's rows, keyed by WO id (work_orders) or wo; their surrogate keys are left to the store. */
const COPIED: Record<string, { wo: string; skip: string[] }> = {
  work_orders: { wo: "id", skip: [] },
  events: { wo: "wo", skip: ["seq"] },
  notes: { wo: "wo", skip: ["id"] },
  attempts: { wo: "wo", skip: [] },
  spend: { wo: "wo", skip: ["id"] },
  context: { wo: "wo", skip: ["id"] },
};

/** Tables whose rows the store numbers in order: the template's are moved after the copies, so the newest rows have the highest keys. */
const SURROGATE = Object.entries(COPIED)
  .filter(([, c]) => c.skip.length > 0)
  .map(([table, c]) => [table, c.skip[0]!] as const);

/** About ten events per WO: most are claimed, noted on, charged and done; some blocked; the rest open. */
async function template(l: Ledger, size: number): Promise<void> {
  const project = PROJECT;
  await l.create({
    project,
    agent: "planner",
    items: Array.from({ length: size }, (_, i) => ({ title: `task ${i + 1}`, priority: (["P0", "P1", "P2", "P3"] as const)[i % 4], labels: [`area-${i % 7}`] })),
  });
  for (let id = 1; id <= size; id++) {
    const agent = `agent-${id % 40}`;
    const kind = id % 10;
    if (kind >= 8) continue; // open
    await l.claim({ project, agent, id });
    for (let n = 0; n < (kind === 7 ? 1 : 10); n++) await l.addNote({ project, agent, id, body: `step ${n}: ${"did a thing ".repeat(6)}` });
    if (kind === 7) {
      await l.release({ project, agent, id, status: "blocked", note: "needs a decision" });
      continue;
    }
    await l.spend({ project, agent, id, tokens_in: 12_000 + id, tokens_out: 3_000, cost_usd: 0.12 });
    if (id % 10 === 0) await l.contextPut({ project, agent, id, key: "handover", body: `WO-${id}: done; next: its follow-ups` });
    await l.release({ project, agent, id, status: "done" });
  }
  await l.contextPut({ project, agent: "planner", key: "decisions", body: "use the new parser" });
}

/** The reads, each as its door makes it: `list`, `get`, `history --limit 20`, `context-pull`, `report --since 7d`, the board's first page. */
function reads(l: Ledger, last: number): [string, () => Promise<unknown>][] {
  const project = PROJECT;
  const id = last - 5; // a recent WO, with notes
  return [
    ["list (default: open, claimed, blocked; first page of 100)", () => l.list({ project, limit: 100 })],
    ["get (a WO with its notes)", () => l.get({ project, id })],
    ["history --limit 20 (a WO's)", () => l.history({ project, id, limit: 20 })],
    ["history --limit 20 (the project's)", () => l.history({ project, limit: 20 })],
    ["context-pull", () => l.contextPull({ project })],
    ["report --since 7d", () => l.report({ project, since: "7d" })],
    ["dashboard board: first page (status=all, 1,000)", () => l.list({ project, status: "all", limit: 1000 })],
    ["dashboard: project list with counts", () => l.projects()],
  ];
}

/** Median of RUNS timed calls after two untimed ones (ms). */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return ms.sort((a, b) => a - b)[RUNS >> 1]!;
}

async function measure(l: Ledger, last: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [name, fn] of reads(l, last)) out.set(name, await timed(fn));
  return out;
}

function rows(store: string, size: string, template: number, small: Map<string, number>, large: Map<string, number>): Row[] {
  return [...large].map(([name, value]) => ({
    figure: `${store}, ${size}: ${name}`,
    value,
    unit: "ms",
    baseline: `the same on its ${template.toLocaleString("en")}-WO template`,
    baselineValue: small.get(name)!,
    ratio: value / small.get(name)!,
    target: `< ${TARGET_MS} ms`,
    pass: value < TARGET_MS,
  }));
}

/** Column lists for copying one table's template rows `copies` times: [insert columns, select expressions]. */
function copyColumns(columns: string[], table: string, shift: (col: string) => string, offset: string, set: Record<string, string> = {}): [string, string] {
  const { wo, skip } = COPIED[table]!;
  const cols = columns.filter((c) => !skip.includes(c));
  const exprs = cols.map((c) => set[c] ?? (c === wo ? `${c} + ${offset}` : c === "at" || c.endsWith("_at") ? shift(c) : c));
  return [cols.join(", "), exprs.join(", ")];
}

/** `copies` copies of a template of `size` WOs. */
export async function largeSqlite(copies: number, size: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "workledger-bench-large-"));
  const file = join(dir, "ledger.db");
  const l = await openLedger({ db: file });
  try {
    progress(`  SQLite: the ${size}-WO template through the ledger`);
    await template(l, size);
    const small = await measure(l, size);
    const raw = new Database(file);
    raw.pragma("journal_mode = WAL");
    raw.pragma("synchronous = OFF"); // seeding only
    const templateSeq = (raw.prepare("SELECT max(seq) AS s FROM events").get() as { s: number }).s;
    const lastKey = Object.fromEntries(SURROGATE.map(([t, key]) => [t, (raw.prepare(`SELECT coalesce(max(${key}), 0) AS k FROM ${t}`).get() as { k: number }).k]));
    const copy = (k: number) => {
      for (const table of Object.keys(COPIED)) {
        const columns = (raw.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((r) => r.name);
        const [cols, exprs] = copyColumns(columns, table, (c) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${c}, '-${(k * COPY_STEP_MS) / 1000} seconds')`, String(k * size), {
          status: FINISHED,
        });
        const { wo } = COPIED[table]!;
        const fromTemplate = table === "events" ? `seq <= ${templateSeq}` : `${wo} <= ${size}`;
        raw.prepare(`INSERT INTO ${table} (${cols}) SELECT ${exprs} FROM ${table} WHERE project = '${PROJECT}' AND ${fromTemplate}`).run();
      }
    };
    // Oldest first; the template's own rows are moved to the end, as the newest.
    for (let k = copies - 1; k >= 1; k--) {
      if (k % 50 === 0) progress(`  SQLite: copies left ${k}`);
      raw.transaction(() => copy(k))();
    }
    raw.transaction(() => {
      for (const [table, key] of SURROGATE) {
        const columns = (raw.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((r) => r.name).filter((c) => c !== key);
        raw.prepare(`INSERT INTO ${table} (${columns.join(", ")}) SELECT ${columns.join(", ")} FROM ${table} WHERE ${key} <= ${lastKey[table]} ORDER BY ${key}`).run();
        raw.prepare(`DELETE FROM ${table} WHERE ${key} <= ${lastKey[table]}`).run();
      }
      raw.prepare("UPDATE projects SET next_id = ? WHERE name = ?").run(copies * size + 1, PROJECT);
    })();
    raw.exec("ANALYZE");
    const counts = figures(raw);
    raw.close();
    progress(`  SQLite: ${counts}, ${(statSync(file).size / 2 ** 30).toFixed(1)} GiB; measuring`);
    const large = await measure(l, copies * size);
    return rows("SQLite", counts, size, small, large);
  } finally {
    await l.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function figures(raw: Database.Database): string {
  const n = (sql: string) => (raw.prepare(sql).get() as { n: number }).n;
  return `${n("SELECT count(*) AS n FROM work_orders").toLocaleString("en")} WOs, ${n("SELECT count(*) AS n FROM events").toLocaleString("en")} events`;
}

export async function largePostgres(url: string, copies: number, size: number): Promise<Row[]> {
  const schema = `wl_bench_large_${process.pid}`;
  const l = await openLedger({ databaseUrl: url, schema });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`SET search_path = ${pg.escapeIdentifier(schema)}`);
    progress(`  PostgreSQL: the ${size}-WO template through the ledger`);
    await template(l, size);
    const small = await measure(l, size);
    const templateSeq = Number((await admin.query("SELECT max(seq) AS s FROM events")).rows[0].s);
    const lastKey: Record<string, number> = {};
    for (const [t, key] of SURROGATE) lastKey[t] = Number((await admin.query(`SELECT coalesce(max(${key}), 0) AS k FROM ${t}`)).rows[0].k);
    const columnsOf = async (table: string) =>
      (await admin.query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position", [schema, table])).rows.map(
        (r: { column_name: string }) => r.column_name,
      );
    // Many copies per statement (k from a series), oldest first.
    const batch = 25;
    for (let hi = copies - 1; hi >= 1; hi -= batch) {
      const lo = Math.max(1, hi - batch + 1);
      progress(`  PostgreSQL: copies ${lo}-${hi}`);
      await admin.query("BEGIN");
      for (const table of Object.keys(COPIED)) {
        const [cols, exprs] = copyColumns(await columnsOf(table), table, (c) => `${c} - k * interval '${COPY_STEP_MS} milliseconds'`, `k * ${size}`, {
          order_xid: "pg_current_xact_id()", // where a follower finds it: this transaction's
          status: FINISHED,
        });
        const { wo } = COPIED[table]!;
        const fromTemplate = table === "events" ? `seq <= ${templateSeq}` : `${wo} <= ${size}`;
        await admin.query(
          `INSERT INTO ${table} (${cols}) SELECT ${exprs} FROM ${table}, generate_series(${hi}, ${lo}, -1) k WHERE project = $1 AND ${fromTemplate} ORDER BY k DESC${table === "events" ? ", seq" : ""}`,
          [PROJECT],
        );
      }
      await admin.query("COMMIT");
    }
    await admin.query("BEGIN");
    for (const [table, key] of SURROGATE) {
      const columns = (await columnsOf(table)).filter((c: string) => c !== key).join(", ");
      const moved = columns.replace("order_xid", "pg_current_xact_id()");
      await admin.query(`INSERT INTO ${table} (${columns}) SELECT ${moved} FROM ${table} WHERE ${key} <= ${lastKey[table]} ORDER BY ${key}`);
      await admin.query(`DELETE FROM ${table} WHERE ${key} <= ${lastKey[table]}`);
    }
    await admin.query("UPDATE projects SET next_id = $1 WHERE name = $2", [copies * size + 1, PROJECT]);
    await admin.query("COMMIT");
    await admin.query("VACUUM ANALYZE");
    const n = async (sql: string) => Number((await admin.query(sql)).rows[0].n).toLocaleString("en");
    const counts = `${await n("SELECT count(*) AS n FROM work_orders")} WOs, ${await n("SELECT count(*) AS n FROM events")} events`;
    progress(`  PostgreSQL: ${counts}; measuring`);
    const large = await measure(l, copies * size);
    return rows("PostgreSQL", counts, size, small, large);
  } finally {
    await l.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await admin.end();
  }
}
