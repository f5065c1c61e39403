/**
 * Issue 25's scenario with real processes, on SQLite and PostgreSQL: a
 * triager, an enricher that takes only `enrich` work, two executors that take
 * only `ready` work, and a wanderer that fits nothing, all at once. Every WO
 * passes through the stages in order, is never claimed by an agent that does
 * not fit, and the report compares enriched work with the rest.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openLedger } from "../../src/index.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";
import { CLEAR, PROJECT, ROUGH } from "../helpers/pipeline-agent.ts";

const AGENT = fileURLToPath(new URL("../helpers/pipeline-agent.ts", import.meta.url));

function run(role: string, agent: string, env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", AGENT, role, agent], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("exit", (code) => resolve({ code, err }));
  });
}

const stores = [
  {
    name: "sqlite",
    async open() {
      const dir = mkdtempSync(join(tmpdir(), "workledger-pipeline-"));
      const db = join(dir, "ledger.db");
      return { env: { WORKLEDGER_DB: db }, open: () => openLedger({ db }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "postgres",
    async open() {
      if (!(await requirePostgres("pipeline scenario"))) return null;
      const schema = uniqueSchema("wl_pipe");
      return { env: { WORKLEDGER_DATABASE_URL: PG_URL, WORKLEDGER_SCHEMA: schema }, open: () => openLedger({ databaseUrl: PG_URL, schema }), cleanup: () => dropSchema(schema) };
    },
  },
];

describe("a pipeline of specialized agent processes (issue 25)", () => {
  for (const store of stores)
    it(`on ${store.name}: every WO passes through its stages in order, only ever claimed by an agent that fits`, { timeout: 120_000 }, async (t) => {
      const s = await store.open();
      if (!s) return t.skip("PostgreSQL unreachable");
      const setup = await s.open();
      try {
        await setup.createProject({ project: PROJECT, agent: "boss", new_project: true });
        await setup.setPolicy({ project: PROJECT, agent: "boss", role: "admin", stages: ["enrich", "ready"], done_stage: "ready" });
        const agents = await Promise.all([
          run("triager", "triager", s.env),
          run("enricher", "enricher", s.env),
          run("executor", "exec-1", s.env),
          run("executor", "exec-2", s.env),
          run("wanderer", "wanderer", s.env),
        ]);
        for (const a of agents) assert.equal(a.code, 0, a.err);

        const wos = await setup.list({ project: PROJECT, status: "all", limit: 1000 });
        assert.equal(wos.length, ROUGH + CLEAR);
        for (const wo of wos) {
          assert.deepEqual([wo.status, wo.stage], ["done", "ready"], `WO-${wo.id}`);
          const attempts = (await setup.attempts({ project: PROJECT, id: wo.id })).map((a) => [a.agent.replace(/-\d$/, ""), a.outcome]);
          // Rough work: enriched first (requires enrich), then executed; clear work: executed only. Never a third agent.
          const expected = wo.title.startsWith("rough")
            ? [
                ["enricher", "handed_on"],
                ["exec", "done"],
              ]
            : [["exec", "done"]];
          assert.deepEqual(attempts, expected, `WO-${wo.id} ${wo.title}`);
          const moves = (await setup.history({ project: PROJECT, id: wo.id })).flatMap((e) => (e.data.stage ? [e.data.stage] : []));
          assert.deepEqual(moves, wo.title.startsWith("rough") ? [{ from: "enrich", to: "ready" }] : []);
        }
        const { enrichment } = await setup.report({ project: PROJECT });
        const figures = (r: typeof enrichment.with_enrich) => [r.done_wos, r.first_attempt_done, r.execute_cost_per_done_wo, r.usd];
        assert.deepEqual(figures(enrichment.with_enrich), [ROUGH, 1, 0.5, ROUGH * 0.7]);
        assert.deepEqual(figures(enrichment.without_enrich), [CLEAR, 1, 1.5, CLEAR * 1.5]);
      } finally {
        await setup.close();
        await s.cleanup();
      }
    });
});
