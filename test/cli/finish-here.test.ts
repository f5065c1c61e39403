/**
 * Where a finish is judged (doors/finish-here.ts): the WO's branch as it is
 * in the caller's repository; a repository without that branch says nothing
 * of it, and is judged as outside git (twenty-sixth trials: done from an
 * unrelated repository skipped the check that the branch had not moved).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LedgerApi } from "../../src/core/api.ts";
import type { LocalRepository } from "../../src/core/freshness.ts";
import { finishHere } from "../../src/doors/finish-here.ts";

const BRANCH = "wo/8-add-mod";
const ledger = { get: async () => ({ branch: BRANCH }) } as unknown as LedgerApi;
const repo = (tips: Record<string, string>): LocalRepository =>
  ({ root: () => "/r", tip: (b: string) => tips[b], contains: () => false, has: () => false, wasAt: () => false, committedAt: () => undefined }) as LocalRepository;
const main = { head: "a".repeat(40), branch: "main", dirty: false };

describe("finishHere: a done is judged by the WO's branch where the caller stands", () => {
  it("names the branch's tip in the caller's repository", async () => {
    const input: Record<string, unknown> = { project: "p", id: 8, status: "done", git: main };
    await finishHere(ledger, input, repo({ [BRANCH]: "b".repeat(40) }));
    assert.deepEqual(input.git, { head: "b".repeat(40), branch: BRANCH, dirty: false });
  });

  it("in a repository without the branch, says the caller is outside it (git: null)", async () => {
    const input: Record<string, unknown> = { project: "p", id: "WO-8", status: "done", git: main };
    await finishHere(ledger, input, repo({}));
    assert.equal(input.git, null);
    assert.equal(input.finished_in, "/r", "the repository it finishes from, where a pass elsewhere did not run");
  });

  it("leaves other statuses, and a caller on the branch, as they are", async () => {
    const other: Record<string, unknown> = { project: "p", id: 8, status: "blocked", git: main };
    await finishHere(ledger, other, repo({}));
    assert.equal(other.git, main);
    assert.equal(other.finished_in, undefined);
    const onIt = { head: "c".repeat(40), branch: BRANCH, dirty: false };
    const here: Record<string, unknown> = { project: "p", id: 8, status: "done", git: onIt };
    await finishHere(ledger, here, repo({ [BRANCH]: "d".repeat(40) }));
    assert.equal(here.git, onIt);
  });
});
