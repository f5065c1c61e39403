/** A branch per WO (issue 26), once per back end: named at create, in every door's JSON, never renamed. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { rejects } from "../helpers/rejects.ts";
import type { LedgerApi } from "../../src/core/api.ts";
import { backends, clock } from "./backends.ts";

for (const backend of backends) {
  describe(`a branch per work order on ${backend.name} (issue 26)`, () => {
    let l: LedgerApi;
    let cleanup: () => Promise<void>;
    const P = "gitty";
    const A = { project: P, agent: "alice" };
    const ADMIN = { project: P, agent: "root", role: "admin" as const };

    beforeEach(async () => {
      ({ ledger: l, cleanup } = await backend.open(clock()));
    });
    afterEach(async () => cleanup());

    it("is named when the WO is created, under the project's prefix, and keeps its name when the title changes", async () => {
      const [wo] = await l.create({ ...A, new_project: true, items: [{ title: "Fix tokenizer crash" }] });
      assert.equal(wo!.branch, "wo/1-fix-tokenizer-crash");
      await l.update({ ...A, id: 1, fields: { title: "Something else entirely" } });
      assert.equal((await l.get({ project: P, id: 1 })).branch, "wo/1-fix-tokenizer-crash");
      await rejects(l.setPolicy({ ...ADMIN, branch_prefix: "../x/" }), "VALIDATION", /branch_prefix: must be words/);
      await rejects(l.setPolicy({ project: P, agent: "alice", branch_prefix: "team/" }), "FORBIDDEN");
      assert.equal((await l.setPolicy({ ...ADMIN, branch_prefix: "team/wo-" })).policy.branch_prefix, "team/wo-");
      const [next] = await l.create({ ...A, items: [{ title: "Second" }] });
      assert.equal(next!.branch, "team/wo-2-second");
      assert.equal((await l.get({ project: P, id: 1 })).branch, "wo/1-fix-tokenizer-crash", "existing WOs keep theirs");
      await rejects(l.update({ ...A, id: 2, fields: { branch: "main" } as never }), "VALIDATION");
    });
  });
}
