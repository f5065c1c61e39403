/**
 * Issue 13, item 1: file patterns chosen by an attacker cannot stall
 * find-unclaimed or claim --next. Random brace and ** patterns up to the
 * schema's limits, plus patterns stored before the limits existed (written
 * under the schema, straight into the store), on both stores: every
 * operation ends, and no operation's overlap work passes the budget the code
 * enforces.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Ledger } from "../../src/core/ledger.ts";
import { globProblem, REQUEST_BUDGET } from "../../src/core/files.ts";
import { storeCases, type OpenStore } from "../helpers/stores.ts";
import { HOSTILE_PATTERNS, watchSpending } from "../helpers/patterns.ts";

const spending = watchSpending();

const alts = fc.array(fc.stringMatching(/^[a-c*]{0,3}$/), { minLength: 1, maxLength: 8 }).map((a) => `{${a.join(",")}}`);
const segment = fc.oneof(
  { arbitrary: fc.constantFrom("**", "*", "a", "b"), weight: 6 },
  { arbitrary: fc.stringMatching(/^[a-c*?]{1,30}$/), weight: 3 },
  { arbitrary: fc.tuple(alts, fc.stringMatching(/^[a-c*]{0,3}$/), alts).map((p) => p.join("")), weight: 1 },
);
/** Patterns the schema accepts: up to 32 segments and 1000 characters, at most 4 brace groups and 64 alternatives. */
const pattern = fc
  .array(segment, { minLength: 1, maxLength: 32 })
  .map((s) => s.join("/").slice(0, 1000))
  .filter((p) => globProblem(p) === null);

async function exercise({ store, close }: OpenStore): Promise<void> {
  const ledger = new Ledger(store);
  try {
    const P = "fuzz";
    const sets = fc.sample(fc.array(pattern, { minLength: 1, maxLength: 60 }), 24);
    await ledger.create({ project: P, agent: "attacker", items: sets.map((f, i) => ({ title: `w${i}`, files: f })) });
    // Two WOs carrying patterns from before the save-time limits.
    const [h1, h2] = await ledger.create({ project: P, agent: "attacker", items: [{ title: "old braces" }, { title: "old stars" }] });
    await store.write(async (tx) => {
      for (const [wo, f] of [
        [h1!, [HOSTILE_PATTERNS.braces]],
        [h2!, Array.from({ length: 20 }, (_, i) => HOSTILE_PATTERNS.stars + i)],
      ] as const) {
        const prev = (await tx.getWorkOrder(P, wo.id))!;
        await tx.saveWorkOrder({ ...prev, files: [...f], revision: prev.revision + 1 }, prev);
      }
    });
    // Half the WOs under live leases, hostile ones included.
    for (let i = 1; i <= 26; i += 2) await ledger.claim({ project: P, agent: `a${i}`, id: i });
    await ledger.claim({ project: P, agent: "attacker", id: h2!.id }).catch(() => undefined);
    for (let round = 0; round < 3; round++) {
      spending.reset();
      const free = await ledger.findUnclaimed({ project: P, limit: 10_000 });
      assert.ok(free.length > 0);
      assert.ok(spending.max() <= REQUEST_BUDGET, `find-unclaimed spent ${spending.max()}`);
      spending.reset();
      await ledger.claim({ project: P, agent: `n${round}`, next: true }).catch((e: { code?: string }) => assert.equal(e.code, "NOTHING_TO_CLAIM"));
      assert.ok(spending.max() <= REQUEST_BUDGET, `claim --next spent ${spending.max()}`);
      spending.reset();
      await ledger
        .claim({ project: P, agent: `x${round}`, id: h1!.id, exclusive_files: true })
        .catch((e: { code?: string }) => assert.match(e.code ?? "", /FILE_CONFLICT|LEASE_HELD/));
      assert.ok(spending.max() <= REQUEST_BUDGET, `claim spent ${spending.max()}`);
    }
    // The hostile WO whose overlap cannot be decided is reported as such, not as free of conflicts.
    const braces = (await ledger.findUnclaimed({ project: P, limit: 10_000 })).find((w) => w.id === h1!.id);
    if (braces) assert.ok(braces.file_conflicts.every((c) => c.overlap === undefined || /too complex/.test(c.reason ?? "")));
  } finally {
    await close();
  }
}

describe("hostile file patterns cannot stall the queue (issue 13)", () => {
  for (const c of storeCases("overlap fuzz"))
    it(`on ${c.name}`, { timeout: 120_000 }, async (t) => {
      const opened = await c.open();
      if (!opened) return t.skip("PostgreSQL unreachable");
      await exercise(opened);
    });
});
