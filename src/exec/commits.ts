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

function commitsIn(dir: string, range: string): RangeCommit[] {
  if (range.startsWith("-") || /[\0-\x1f]/.test(range))
    throw new LedgerError("VALIDATION", `range: ${JSON.stringify(range)} is not a revision range`, {
      hint: "give a git revision range such as origin/main..HEAD",
      details: { issues: [{ field: "range", message: "not a revision range" }] },
    });
  const format = `%H%x1f%cI%x1f%s%x1f%(trailers:key=${WORK_ORDER_TRAILER},key=${LEASE_TOKEN_TRAILER},unfold)%x1e`;
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
  const checked: CheckedCommit[] = commits.map((c) => ({
    commit: c.commit,
    at: c.at,
    subject: c.subject,
    trailers: c.lease === null ? "none" : c.lease === "malformed" ? "malformed" : "lease",
    verdict: verdicts.get(c.commit) ?? null,
  }));
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
