/** The benchmark must not rot: a tiny run of every scenario. No timing is asserted, only that figures come out. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bench, table } from "../../bench/run.ts";

describe("benchmark smoke run", () => {
  it("measures every scenario against its baseline and prints a table", async () => {
    const said: string[] = [];
    const rows = await bench({
      scenarios: ["sqlite", "cli", "scale", "pipeline", "memory", "postgres", "capacity", "browser", "large"],
      sizes: [],
      quick: true,
      memorySeconds: 3,
      log: (s) => said.push(s),
    });
    // A long run says where it is as it goes (issue 27): each scenario, and the phases inside it.
    for (const scenario of ["sqlite", "cli", "scale", "pipeline", "memory", "postgres", "capacity", "browser", "large"])
      assert.ok(
        said.some((s) => s.endsWith(`] scenario ${scenario}`)),
        scenario,
      );
    for (const phase of [
      /SQLite claim\+complete, 8 processes/,
      /queue latency \(PostgreSQL\): growing to 3,000 WOs/,
      /PostgreSQL claim\+complete, 2 workers, 20 WOs: pg-boss/,
      /serve memory/,
    ])
      assert.ok(
        said.some((s) => phase.test(s)),
        String(phase),
      );
    assert.match(said[0]!, /^\[bench \d+:\d\d\] /);
    const figures = rows.map((r) => r.figure).join("\n");
    for (const expected of [
      /SQLite claim\+complete, 1 process/,
      /SQLite claim\+complete, 8 processes/,
      /CLI list p50/,
      /CLI claim p50/,
      /find-unclaimed at 1,000 WOs/,
      /claim --next --stage ready --label api at 10,000 WOs \(SQLite/,
      /claim --next --stage ready --label api at 10,000 WOs \(PostgreSQL/,
      /serve RSS under load/,
      /serve V8 heap after full GC/,
      /capacity, PostgreSQL, 1 serve: agents at every p99 < 100 ms/,
      /capacity, PostgreSQL, 2 serves: agents at every p99 < 100 ms/,
      /capacity, SQLite, 1 serve: agents at every p99 < 100 ms/,
      /claim p50 \/ p99 at \d+ agents/,
      /dashboard board: time to interact, 300 WOs/,
      /dashboard flow \(24h\): open/,
    ])
      assert.match(figures, expected);
    for (const r of rows) {
      // A capacity may be 0 agents on a loaded machine (a short step's p99 over the limit); every other figure is positive.
      assert.ok(Number.isFinite(r.value) && (r.value > 0 || r.unit === "agents"), `${r.figure}: ${r.value}`);
      // Only explanatory figures (no target) have no verdict.
      assert.ok(typeof r.pass === "boolean" || (r.pass === null && r.target === "—"), `${r.figure}: pass ${r.pass}`);
    }
    assert.match(table(rows), /figure\s+value\s+baseline\s+ratio\s+target/);
  });
});
