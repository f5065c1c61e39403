/**
 * `workledger check-commits <range>` (issue 26): reads the commits of a git
 * range and their Work-Order / Lease-Token trailers, and has the ledger judge
 * each against the lease it names (core/commits.ts), a project at a time and
 * at most MAX_COMMITS_CHECKED per request.
 */
import type { LedgerApi } from "../core/api.js";
import type { CommitVerdict } from "../core/commits.js";
import { LedgerError } from "../core/errors.js";
import { MAX_COMMITS_CHECKED } from "../core/schemas.js";
import { commitLease, LEASE_TOKEN_TRAILER, WORK_ORDER_TRAILER, type CommitLease } from "../core/trailers.js";
import { git, gitOrFail } from "./git.js";

export interface CheckedCommit {
  commit: string;
  at: string;
  subject: string;
  /** What its trailers say: a lease (judged in `verdict`), none, or something unreadable. */
  trailers: "lease" | "none" | "malformed";
  verdict: CommitVerdict | null;
}

export interface CommitCheck {
  range: string;
  commits: CheckedCommit[];
  ok: number;
  refused: number;
  unmarked: number;
  malformed: number;
  /** Whether the range passes: nothing refused or malformed, and with require_trailers nothing unmarked. */
  passed: boolean;
}

/** Commits a range may hold before the check refuses to read it all (a mistyped range would read the whole history). */
const MAX_RANGE = 100_000;

interface RangeCommit {
  commit: string;
  at: string;
  subject: string;
  lease: CommitLease | null | "malformed";
}

/** `dated`: the committer's date (check-commits: when it was put where it is) or the author's (kept by a rebase). */
function commitsIn(dir: string, range: string, dated: "%cI" | "%aI" = "%cI"): RangeCommit[] {
  if (range.startsWith("-") || /[\0-\x1f]/.test(range))
    throw new LedgerError("VALIDATION", `range: ${JSON.stringify(range)} is not a revision range`, {
      hint: "give a git revision range such as origin/main..HEAD",
      details: { issues: [{ field: "range", message: "not a revision range" }] },
    });
  const format = `%H%x1f${dated}%x1f%s%x1f%(trailers:key=${WORK_ORDER_TRAILER},key=${LEASE_TOKEN_TRAILER},unfold)%x1e`;
  // A range git cannot resolve is bad input (exit 2), not an outage to wait out (fifteenth trials: exit 7).
  if (git(dir, ["rev-parse", "--quiet", "--end-of-options", ...range.split(/\.{2,3}/).filter(Boolean)]) === null)
    throw new LedgerError("VALIDATION", `range: ${JSON.stringify(range)} names a revision this repository does not have`, {
      hint: "give a git revision range such as origin/main..HEAD (fetch first if it names a remote branch)",
      details: { issues: [{ field: "range", message: "unknown revision" }] },
    });
  const out = gitOrFail(dir, ["log", `--max-count=${MAX_RANGE + 1}`, `--format=${format}`, "--end-of-options", range, "--"], `read the commits of ${range}`);
  const commits = out
    .split("\x1e")
    .map((r) => r.replace(/^\n/, ""))
    .filter(Boolean)
    .map((r) => {
      const [commit = "", at = "", subject = "", trailers = ""] = r.split("\x1f");
      return { commit, at: new Date(at).toISOString(), subject, lease: commitLease(trailers) };
    });
  if (commits.length > MAX_RANGE)
    throw new LedgerError("VALIDATION", `range: ${range} holds more than ${MAX_RANGE} commits`, {
      hint: "check the commits a push or pull request adds, e.g. origin/main..HEAD",
      details: { issues: [{ field: "range", message: "too many commits" }] },
    });
  return commits.reverse(); // oldest first, as they were made
}

export async function checkCommits(ledger: LedgerApi, dir: string, range: string, requireTrailers: boolean): Promise<CommitCheck> {
  const commits = commitsIn(dir, range);
  const checked = await judged(ledger, commits);
  const count = (f: (c: CheckedCommit) => boolean) => checked.filter(f).length;
  const refused = count((c) => c.verdict?.ok === false);
  const unmarked = count((c) => c.trailers === "none");
  const malformed = count((c) => c.trailers === "malformed");
  return {
    range,
    commits: checked,
    ok: count((c) => c.verdict?.ok === true),
    refused,
    unmarked,
    malformed,
    passed: refused + malformed === 0 && (!requireTrailers || unmarked === 0),
  };
}

/** Each commit with the ledger's verdict on the lease its trailers name (a project at a time, MAX_COMMITS_CHECKED per request). */
async function judged(ledger: LedgerApi, commits: RangeCommit[]): Promise<CheckedCommit[]> {
  const verdicts = new Map<string, CommitVerdict>();
  const byProject = new Map<string, { commit: string; id: number; token: number; at: string }[]>();
  for (const c of commits) {
    if (c.lease === null || c.lease === "malformed") continue;
    const list = byProject.get(c.lease.project) ?? [];
    list.push({ commit: c.commit, id: c.lease.id, token: c.lease.token, at: c.at });
    byProject.set(c.lease.project, list);
  }
  for (const [project, list] of byProject) {
    for (let i = 0; i < list.length; i += MAX_COMMITS_CHECKED) {
      for (const v of await ledger.checkCommits({ project, commits: list.slice(i, i + MAX_COMMITS_CHECKED) })) verdicts.set(v.commit!, v);
    }
  }
  return commits.map((c) => ({
    commit: c.commit,
    at: c.at,
    subject: c.subject,
    trailers: c.lease === null ? "none" : c.lease === "malformed" ? "malformed" : "lease",
    verdict: verdicts.get(c.commit) ?? null,
  }));
}

/**
 * The commits of `range` made outside the lease their trailers name (or whose
 * trailers cannot be read), leaving out those of `current`, the lease moving
 * the branch, which is live: what the reference-transaction hook refuses to
 * put on a WO's branch (twenty-seventh trials: a lapsed holder's commit, put
 * on the branch from the next holder's worktree by update-ref, became that
 * holder's checkpoint and the WO went done). Asks the ledger only about
 * commits naming another lease.
 */
export async function madeOutsideTheirLease(ledger: LedgerApi, dir: string, range: string, current: CommitLease): Promise<CheckedCommit[]> {
  const same = (l: CommitLease) => l.project === current.project && l.id === current.id && l.token === current.token;
  // By the author's date: a rebase (a takeover rebasing the branch onto main) re-dates the commits it copies, not their authorship.
  const others = commitsIn(dir, range, "%aI").filter((c) => c.lease === "malformed" || (c.lease !== null && !same(c.lease)));
  if (others.length === 0) return [];
  return (await judged(ledger, others)).filter((c) => c.trailers === "malformed" || c.verdict?.ok === false);
}

/**
 * The commits of a range nobody vouched for under a live lease: `refused`,
 * made outside the lease they name (or with trailers that cannot be read),
 * and `unmarked`, naming none (made without workledger's git hooks). What a
 * new worktree and a checkpoint warn of before taking them on.
 */
export async function unvouched(ledger: LedgerApi, dir: string, range: string): Promise<{ refused: CheckedCommit[]; unmarked: CheckedCommit[] }> {
  const { commits } = await checkCommits(ledger, dir, range, false);
  return { refused: commits.filter((c) => c.trailers === "malformed" || c.verdict?.ok === false), unmarked: commits.filter((c) => c.trailers === "none") };
}
