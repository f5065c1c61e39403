/**
 * The short, fixed-seed torture run of the normal suite: real agent processes,
 * injected faults, and the history checker, on SQLite and PostgreSQL. Long
 * runs: `npm run test:torture` (docs/RELIABILITY.md).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { requirePostgres } from "../conformance/backends.ts";
import { requireFormation } from "../helpers/pg-cluster.ts";
import { torture } from "./run.ts";

const pgAvailable = await requirePostgres("torture");
const failoverAvailable = requireFormation("PostgreSQL failover torture tests");

describe("torture (short, fixed seed)", () => {
  for (const backend of ["sqlite", "postgres"] as const) {
    it(
      `${backend}: 8 agents, faults injected, history checks out`,
      { skip: backend === "postgres" && !pgAvailable ? "PostgreSQL is unreachable (see the warning above)" : false },
      async () => {
        const r = await torture({ backend, durationMs: 8000, seed: 7, workers: 8, wos: 120, faults: "standard" });
        assert.ok(r.ops > 200, `only ${r.ops} operations ran`);
        assert.ok(Object.values(r.faults).reduce((a, b) => a + b, 0) > 0, "faults were injected");
        assert.deepEqual(r.violations, []);
      },
    );
  }

  it(
    "postgres, failover: primaries SIGKILLed twice under load, history checks out",
    { skip: !failoverAvailable ? "pg_auto_failover is missing (see the warning above)" : false },
    async () => {
      const r = await torture({ backend: "postgres", durationMs: 30_000, seed: 11, workers: 6, wos: 150, faults: "failover", failovers: 2 });
      assert.deepEqual(r.violations, []);
      assert.equal(r.failovers?.length, 2);
      for (const f of r.failovers!) assert.ok(f.unavailableMs !== undefined, `work resumed after the failover at ${new Date(f.at).toISOString()}`);
      assert.ok(r.ops > 100, `only ${r.ops} operations ran`);
    },
  );
});
