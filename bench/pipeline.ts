/**
 * claim --next in a pipeline (issue 25): `claim --next --stage ready --label
 * api` by an agent that can `code`, at 10⁶ WOs, on SQLite and PostgreSQL,
 * next to an unfiltered `claim --next` on the same ledger. The WOs are
 * written straight into the store (a seeding shortcut: no events), spread
 * over four stages; one in ten is labelled `api` (and one in 10,000 `rare`,
 * the filter's worst case), one in three requires `code`, and half the
 * `code` ones also require `db`, which the agent lacks.
 */
import { progress } from "./progress.ts";
import Database from "better-sqlite3";
import pg from "pg";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ledger } from "../src/core/ledger.ts";
import { openLedger } from "../src/index.ts";
import type { Row } from "./run.ts";
import { quantile } from "./stats.ts";

const P = "pipe";
const STAGES = ["triage", "enrich", "ready", "review"];
const ROUNDS = 20;

/** Each WO's stage, priority, labels and requires, by its id (the same on both stores). */
const SQLITE_ROWS = `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?)
  INSERT INTO work_orders (project, id, title, description, repo, acceptance, scope, files, verification, priority, handover, labels, depends_on,
    status, revision, created_by, created_at, updated_at, stage, requires)
  SELECT '${P}', i, 'task ' || i, '', '', '[]', '', '[]', '', 'P' || ((i / 4) % 4), '',
    CASE WHEN i % 10000 = 2 THEN '["rare"]' WHEN i % 10 = 2 THEN '["api"]' WHEN i % 10 = 3 THEN '["ui"]' ELSE '[]' END, '[]',
    'open', 1, 'bench', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z',
    CASE i % 4 WHEN 0 THEN 'triage' WHEN 1 THEN 'enrich' WHEN 2 THEN 'ready' ELSE 'review' END,
    CASE WHEN i % 6 = 0 THEN '["code","db"]' WHEN i % 3 = 0 THEN '["code"]' ELSE '[]' END
  FROM g`;
const PG_ROWS = `INSERT INTO work_orders (project, id, title, description, repo, acceptance, scope, files, verification, priority, handover, labels, depends_on,
    status, revision, created_by, created_at, updated_at, stage, requires)
  SELECT '${P}', i, 'task ' || i, '', '', '{}', '', '{}', '', 'P' || ((i / 4) % 4), '',
    CASE WHEN i % 10000 = 2 THEN '{rare}'::text[] WHEN i % 10 = 2 THEN '{api}' WHEN i % 10 = 3 THEN '{ui}' ELSE '{}' END, '{}',
    'open', 1, 'bench', now(), now(), (ARRAY['triage', 'enrich', 'ready', 'review'])[1 + i % 4],
    CASE WHEN i % 6 = 0 THEN '{code,db}'::text[] WHEN i % 3 = 0 THEN '{code}' ELSE '{}' END
  FROM generate_series(1, $1::integer) i`;

/** p50 of ROUNDS claims (each takes a WO, so every round looks for the next; one that finds none has read all the filter could match). */
async function claims(ledger: Ledger, filter: Record<string, unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await ledger.claim({ project: P, agent: `bench${i}`, next: true, can: ["code"], ...filter }).catch((e: { code?: string }) => {
      if (e.code !== "NOTHING_TO_CLAIM") throw e;
    });
    ms.push(performance.now() - t);
  }
  return quantile(ms, 0.5);
}

async function figures(store: string, size: number, ledger: Ledger): Promise<Row[]> {
  progress(`  claim --next with filters at ${size.toLocaleString("en")} WOs (${store})`);
  await ledger.setPolicy({ project: P, agent: "bench", role: "admin", stages: STAGES });
  const base = await claims(ledger, {});
  const row = (what: string, ms: number, target: boolean): Row => ({
    figure: `claim --next ${what} at ${size.toLocaleString("en")} WOs (${store}, can code)`,
    value: ms,
    unit: "ms",
    baseline: "claim --next, no filter",
    baselineValue: base,
    ratio: ms / base,
    target: target ? "< 50 ms" : "—",
    pass: target ? ms < 50 : null,
  });
  return [
    row("--stage ready --label api", await claims(ledger, { stage: "ready", labels: ["api"] }), true),
    row("--stage ready --label rare (1 in 10,000)", await claims(ledger, { stage: "ready", labels: ["rare"] }), false),
  ];
}

export async function pipelineSqlite(size: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "workledger-bench-"));
  const file = join(dir, "ledger.db");
  const ledger = await openLedger({ db: file });
  try {
    await ledger.createProject({ project: P, agent: "bench", new_project: true });
    const raw = new Database(file);
    raw.prepare(SQLITE_ROWS).run(size);
    raw.prepare("UPDATE projects SET next_id = ? WHERE name = ?").run(size + 1, P);
    raw.exec("ANALYZE");
    raw.close();
    return await figures("SQLite", size, ledger);
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function pipelinePostgres(url: string, size: number): Promise<Row[]> {
  const schema = `wl_bench_pipe_${process.pid}`;
  const ledger = await openLedger({ databaseUrl: url, schema });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await ledger.createProject({ project: P, agent: "bench", new_project: true });
    await admin.query(`SET search_path = ${pg.escapeIdentifier(schema)}`);
    await admin.query(PG_ROWS, [size]);
    await admin.query("UPDATE projects SET next_id = $1 WHERE name = $2", [size + 1, P]);
    await admin.query("VACUUM ANALYZE work_orders");
    return await figures("PostgreSQL", size, ledger);
  } finally {
    await ledger.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await admin.end();
  }
}
