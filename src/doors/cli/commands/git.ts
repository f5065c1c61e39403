/** branch, worktree, checkpoint, git-hooks and check-commits: the git side of a work order (issue 26). */
import { readFileSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { label } from "../../../core/types.js";
import { isFinished } from "../../../core/rules.js";
import { inputs } from "../../../core/schemas.js";
import { parse } from "../../../core/validate.js";
import { ensureBranch, type BranchResult } from "../../../exec/branch.js";
import { judgeBranchMove } from "../../../core/commits.js";
import { checkpoint, type CheckpointOutcome } from "../../../exec/checkpoint.js";
import { refuseSharedBranch, worktree, type PruneResult, type WorktreeResult } from "../../../exec/worktree.js";
import { checkCommits, type CheckedCommit, type CommitCheck } from "../../../exec/commits.js";
import { HOOKS, RETIRED_HOOKS, installHooks, recordCommit, runHook, type CommitHook } from "../../../exec/hooks.js";
import { fenceRefUpdates, hookRun, parseRefUpdates, recordBranchMoves } from "../../../exec/ref-fence.js";
import { c, shown } from "../output.js";
import { EXIT } from "../exit.js";
import { IDEMPOTENCY_KEY, LEASE_TOKEN, registerOperation, WO_ID } from "../operation.js";
import { str } from "../invocation.js";
import { cliAction } from "../run.js";

const DIR = { help: "the git repository (default: the current directory)", flag: "--dir <path>" };

export function register(program: Command): void {
  registerGitHooks(program);
  registerCheckCommits(program);
  registerOperation<BranchResult & { project: string; id: number }>(program, {
    op: "branch",
    description: "print a work order's git branch (e.g. wo/53-fix-tokenizer-crash), creating it from the repository's default branch if it does not exist; nothing is checked out",
    flags: { id: WO_ID, dir: DIR },
    run: async (ledger, input, ctx) => {
      const { project, id, dir } = parse(inputs.branch, input);
      const wo = await ledger.get({ project, id });
      // A name another project's WO owns is not this one's to print as its own (twenty-eighth trials).
      await refuseSharedBranch(ledger, wo, wo.branch);
      const refusal = judgeBranchMove(wo, "create", { agent: ctx.agent, admin: ctx.role === "admin" }, new Date().toISOString(), true);
      return { project, id, ...ensureBranch(dir ?? process.cwd(), wo.branch, ctx.agent, refusal) };
    },
    render: (r) => ({ human: () => (r.created ? `${r.branch} (created from ${r.base})` : r.branch) }),
  });

  registerOperation<WorktreeResult | PruneResult>(program, {
    op: "worktree",
    description:
      "print the git worktree of your attempt on a work order you hold (beside the repository, in <repo>.worktrees/<project>/wo-<id>-lease-<token>), creating it on the work order's branch as it is (warnings name commits after its last checkpoint); --prune removes yours (an admin: anyone's) of done or cancelled work orders that hold no uncommitted changes",
    flags: {
      id: { ...WO_ID, help: "work order id (53 or WO-53); with --prune, only that work order's worktrees" },
      dir: DIR,
      prune: { help: "remove your worktrees (an admin: anyone's) of done or cancelled work orders that hold no uncommitted changes, and say why the others stay", flag: "--prune" },
      lease_token: LEASE_TOKEN,
    },
    run: (ledger, input) => worktree(ledger, input as Parameters<typeof worktree>[1]),
    render: (r) => ({
      ...("path" in r && r.warnings ? { warnings: r.warnings } : {}),
      human: () => ("path" in r ? worktreeText(r) : pruneText(r)),
    }),
  });

  registerOperation<CheckpointOutcome>(program, {
    op: "checkpoint",
    description:
      "commit your work tree's changes (tracked and untracked) to the branch of a work order you hold, with Work-Order and Lease-Token trailers, recorded under your lease: the next holder's worktree starts from it",
    flags: {
      id: WO_ID,
      message: { help: "what the checkpoint holds (required)", flag: "-m, --message <text>" },
      dir: { help: "the work tree (default: the current directory when it is on the work order's branch, else your worktree)", flag: "--dir <path>" },
      lease_token: LEASE_TOKEN,
      idempotency_key: IDEMPOTENCY_KEY,
    },
    run: (ledger, input) => checkpoint(ledger, input as Parameters<typeof checkpoint>[1]),
    render: (r) => ({
      ...("warnings" in r && r.warnings ? { warnings: r.warnings } : {}),
      human: () =>
        "nothing" in r
          ? c.dim(`nothing to checkpoint in ${shown(r.dir)}: it holds no changes since the last commit on ${r.branch}`)
          : `checkpoint ${r.checkpoint.commit.slice(0, 12)} on ${r.branch} (${r.files} file${r.files === 1 ? "" : "s"}, lease token ${r.checkpoint.token})`,
    }),
  });
}

/** How a shell or a model gets its worktree for a WO (twenty-fourth MCP trial: a hint without the project failed in a plain shell). */
const worktreeOf = (wo: { project: string; id: number }) => `workledger worktree --project ${wo.project} --id ${wo.id}, or over MCP the worktree tool`;

/**
 * What a refused mover of a WO's branch does next: claim it while nobody holds it; a git run that names no agent may be
 * its holder's, from a shell without WORKLEDGER_AGENT (twenty-third MCP trial: the holder was told to claim what it held).
 */
function fenceHint(wo: { project: string; id: number; holder: string | null }, agent: string | undefined): string {
  const worktree = worktreeOf(wo);
  if (wo.holder === null) return `; claim ${label(wo.id)} to work on its branch (then ${worktree})`;
  if (agent === undefined) return `; if you are ${wo.holder}, run git in your worktree for it (${worktree}, prints its path) or with WORKLEDGER_AGENT=${wo.holder} set`;
  return "";
}

/** Exit of check-commits and the commit-msg hook when a commit names a lease that was not live: LEASE_LOST's. */
const FENCED_EXIT = EXIT.LEASE_LOST;

function registerGitHooks(program: Command): void {
  const hooks = program
    .command("git-hooks")
    .description("git hooks that put your lease on your commits, refuse a commit once it has lapsed, and keep a work order's branch its holder's");
  hooks
    .command("install")
    .description(
      "install prepare-commit-msg and commit-msg (they add Work-Order and Lease-Token trailers in worktrees made by workledger worktree, and refuse the commit when that lease is no longer live, or on a work order's branch checked out elsewhere when you do not hold it) and reference-transaction (refuses any other move of a work order's branch by someone who does not hold it: merge, reset, update-ref, fetch; and records each move its holder makes, commits included, as a checkpoint) in the repository, for all its worktrees",
    )
    .option("--dir <path>", "the git repository (default: the current directory)")
    .action(
      cliAction(async (o) => {
        const r = installHooks(resolve(str(o.dir) ?? process.cwd()), process.execPath, realpathSync(process.argv[1]!));
        return {
          data: r,
          warnings: r.kept.map((k) => `kept ${k.hook}: ${k.reason}`),
          human: () => r.installed.map((p) => `installed ${shown(p)}`).join("\n") || c.dim("nothing installed"),
        };
      }),
    );
  // What the installed hooks run (not for people: git calls it with the message file).
  program
    .command("git-hook <hook> [file] [args...]", { hidden: true })
    .description(`run a workledger git hook (${HOOKS.join(", ")})`)
    .action(
      cliAction(
        async (_o, ctx, args) => {
          const [hook, file] = args as [string, string | undefined];
          if (![...HOOKS, ...RETIRED_HOOKS].includes(hook as never)) return { data: null, human: () => "" }; // a hook of a newer version: let the commit be
          const caller = { agent: ctx.agent, admin: ctx.role === "admin" };
          if (hook === "post-commit") {
            // The commit is made: a ledger that cannot be told is a warning, never a failure.
            const recorded = await recordCommit(await ctx.ledger(), process.cwd(), ctx.agent).catch((e: unknown) => e as Error);
            const warnings = recorded instanceof Error ? [`workledger: this commit is not recorded as a checkpoint: ${recorded.message}`] : [];
            return { data: undefined, human: () => "", warnings };
          }
          if (hook === "reference-transaction" && file === "committed") {
            // The moves are made: a ledger that cannot be told is a warning, never a failure.
            const recorded = await recordBranchMoves(await ctx.ledger(), process.cwd(), parseRefUpdates(readFileSync(0, "utf8")), caller).catch((e: unknown) => e as Error);
            const warnings = recorded instanceof Error ? [`workledger: this move is not recorded as a checkpoint: ${recorded.message}`] : [];
            return { data: undefined, human: () => "", warnings };
          }
          if (hook === "reference-transaction") {
            const updates = parseRefUpdates(readFileSync(0, "utf8"));
            const ledger = await ctx.ledger();
            const run = hookRun(ledger, process.cwd(), caller);
            const refused = await fenceRefUpdates(ledger, process.cwd(), updates, caller, run);
            // The holder's move is recorded while its lease is live, before git makes it (and once more, idempotently, after):
            // a commit whose lease ended while git moved the branch landed unrecorded (twenty-fourth trials).
            if (refused.length === 0) await recordBranchMoves(ledger, process.cwd(), updates, caller, run).catch(() => undefined);
            return {
              data: { refused },
              ...(refused.length ? { exitCode: FENCED_EXIT } : {}),
              human: () =>
                refused
                  .map(
                    (r) =>
                      `${c.red(`workledger: ${r.wo ? "branch" : "ref"} update refused:`)} ${shown(r.message)}\n` +
                      c.dim(
                        // git may have changed the files before the ref (reset --hard, merge): only the branch is sure to be as it was (twenty-first trials).
                        `the ${r.wo ? "branch" : "ref"} did not move (a command that also writes files, like reset --hard or merge, may have changed this work tree: git status shows it)${
                          r.wo && !isFinished(r.wo.status) ? fenceHint(r.wo, caller.agent) : ""
                        }`,
                      ),
                  )
                  .join("\n"),
            };
          }
          if (file === undefined) return { data: null, human: () => "" };
          const out = await runHook(await ctx.ledger(), hook as CommitHook, process.cwd(), file, ctx.project);
          const v = out.verdict;
          if (v === null || v.ok) return { data: out, human: () => "" };
          return {
            data: out,
            exitCode: FENCED_EXIT,
            human: () =>
              `${c.red("workledger: commit refused:")} ${shown(v.message)}\n` +
              c.dim(
                `your changes are still in the work tree; ${
                  v.status === "done" || v.status === "cancelled"
                    ? `${label(v.id)} is ${v.status}: nobody commits to its branch any more; carry what is left to a new work order (git stash, then apply it in that one's worktree)`
                    : v.holder !== null && v.holder.agent === process.env.WORKLEDGER_AGENT
                      ? `you hold ${label(v.id)} under lease ${v.holder.token} now: commit in that lease's worktree (${worktreeOf(v)})`
                      : v.problem === "not_the_holder"
                        ? v.holder === null
                          ? `claim ${label(v.id)} first, then commit in its worktree (${worktreeOf(v)})`
                          : "it is its holder's: commit in a worktree of a work order you hold"
                        : `claim ${label(v.id)} again (or leave it to its holder); then carry your changes to that lease's worktree (git stash here; ${worktreeOf(v)} prints its path; git stash pop there) and commit there: a commit here names your old lease`
                }`,
              ),
          };
        },
        // The repository's pinned ledger judges, not the shell's WORKLEDGER_DB (makeCtx).
        { repoFirst: true },
      ),
    );
}

function registerCheckCommits(program: Command): void {
  program
    .command("check-commits <range>")
    .description(
      `check that every commit in a git range (e.g. origin/main..HEAD) was made while the lease its Work-Order / Lease-Token trailers name was live; exit ${FENCED_EXIT} when one was not, or names a lease never issued (for pre-push, CI and server hooks)`,
    )
    .option("--dir <path>", "the git repository (default: the current directory)")
    .option("--require-trailers", `commits without Work-Order / Lease-Token trailers fail too (exit ${FENCED_EXIT}); by default they are only reported`)
    .action(
      cliAction(async (o, ctx, args) => {
        const r = await checkCommits(await ctx.ledger(), resolve(str(o.dir) ?? process.cwd()), args[0]!, o.requireTrailers === true);
        return { data: r, ...(r.passed ? {} : { exitCode: FENCED_EXIT }), human: () => checkText(r) };
      }),
    );
}

function commitLine(x: CheckedCommit): string {
  const sha = x.commit.slice(0, 12);
  if (x.trailers === "none") return `${c.dim("unmarked")}  ${sha} ${shown(x.subject)}`;
  if (x.trailers === "malformed") return `${c.red("MALFORMED")} ${sha} ${shown(x.subject)}: its Work-Order / Lease-Token trailers cannot be read`;
  const v = x.verdict!;
  const lease = `${v.project}#${v.id} lease ${v.token}`;
  return v.ok ? `${c.green("ok")}        ${sha} ${lease}: ${shown(v.message)}` : `${c.red("REFUSED")}   ${sha} ${lease}: ${shown(v.message)}`;
}

function checkText(r: CommitCheck): string {
  const summary = `${r.commits.length} commit(s) in ${r.range}: ${r.ok} ok, ${r.refused} refused, ${r.malformed} malformed, ${r.unmarked} without trailers`;
  return [...r.commits.map(commitLine), r.passed ? summary : c.red(summary)].join("\n");
}

/** The path alone on stdout (`cd "$(workledger worktree --id 53)"`); what it starts from on stderr. */
function worktreeText(r: WorktreeResult): string {
  const from = r.checkpoint ? ` from checkpoint ${r.checkpoint.commit.slice(0, 12)} by ${r.checkpoint.agent}` : "";
  if (r.created) process.stderr.write(c.dim(`created on ${r.branch}${from}\n`));
  return r.path;
}

function pruneText(r: PruneResult): string {
  const lines = [...r.removed.map((p) => `removed ${shown(p)}`), ...r.kept.map((k) => `kept ${shown(k.path)}: ${k.reason}`)];
  return lines.length ? lines.join("\n") : c.dim("no worktrees made by workledger here");
}
