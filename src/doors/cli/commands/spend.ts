/** spend (by hand, or from a Claude Code transcript), attempts and report. */
import type { Command } from "commander";
import { attribute } from "../../../core/attribution.js";
import type { LedgerApi } from "../../../core/api.js";
import { LedgerError } from "../../../core/errors.js";
import type { AttemptView, SpendResult } from "../../../core/ledger.js";
import type { Report } from "../../../core/report.js";
import { byModel, readTranscript } from "../../../exec/transcript.js";
import { decimal, str } from "../invocation.js";
import * as render from "../render-spend.js";
import { IDEMPOTENCY_KEY, registerOperation, WO_ID, type FlagSpec } from "../operation.js";

const count = (help: string, flag: string): FlagSpec => ({ help, flag, number: true });

/** What spend --from-transcript recorded: one report per attempt and model the transcript's usage fell in. */
export interface TranscriptSpend {
  transcript: string;
  source: string;
  recorded: SpendResult[];
  /** Usage that no attempt of the agent could take (no attempts in the window). */
  unattributed_messages: number;
}
type SpendOut = SpendResult | TranscriptSpend;

/** The figures of a spend report, as flags (spend's own, and release's to report with the release). */
export const SPEND_FIGURES: Readonly<Record<string, FlagSpec>> = {
  phase: { help: "enrich, execute (default), review, verify, or a word of your project's", flag: "--phase <phase>" },
  model: { help: "model name (prices the tokens; e.g. claude-sonnet-4-5)", flag: "--model <model>" },
  tokens_in: count("input tokens, cache reads and writes included", "--tokens-in <n>"),
  tokens_out: count("output tokens", "--tokens-out <n>"),
  cache_read_tokens: count("of --tokens-in, read from a prompt cache", "--cache-read-tokens <n>"),
  cache_write_tokens: count("of --tokens-in, written to a prompt cache", "--cache-write-tokens <n>"),
  cost_usd: { help: "cost in USD (default: from the model's price)", flag: "--cost-usd <usd>", read: (o) => decimal(o.costUsd) },
};

export function register(program: Command): void {
  registerOperation<SpendOut>(program, {
    op: "spend",
    description: "record tokens and cost against your attempt on a work order (or --from-transcript: read them from a Claude Code transcript)",
    flags: {
      id: WO_ID,
      ...SPEND_FIGURES,
      lease_token: { help: "the attempt (its claim's token); default: your live or latest attempt", flag: "--lease-token <n>", number: true },
      source: { help: "the figures are this source's running totals: only their growth is recorded", flag: "--source <key>" },
      idempotency_key: IDEMPOTENCY_KEY,
    },
    options: (cmd) =>
      cmd.option("--from-transcript <path>", "read usage from a Claude Code transcript (JSONL; - reads a hook's JSON from stdin); only what is new since the last report is added"),
    runWhen: (o) => str(o.fromTranscript) !== undefined,
    run: (ledger, input, _ctx, o) => fromTranscript(ledger, input, str(o.fromTranscript)!),
    render: (r) => ({
      warnings: "recorded" in r ? r.recorded.flatMap((x) => x.warnings ?? []) : (r.warnings ?? []),
      human: () => ("recorded" in r ? transcriptText(r) : render.spendResult(r)),
    }),
  });

  registerOperation<AttemptView[]>(program, {
    op: "attempts",
    description: "attempts (claims) of a work order, or of the project: who, how long, how each ended, what it cost",
    flags: {
      id: { ...WO_ID, help: "work order id (without it: the project's attempts)" },
      agent: { help: "only this agent's attempts", flag: "--by-agent <name>" },
      since: { help: "only attempts started this recently (e.g. 7d)", flag: "--since <duration>" },
      limit: { help: "the newest this many (default 100)", flag: "--limit <n>", number: true },
    },
    render: (list) => ({ human: () => render.attempts(list) }),
  });

  registerOperation<Report>(program, {
    op: "report",
    description: "spend, attempts, outcomes, done work orders and cost per done work order over a window (and enrich vs not)",
    flags: {
      since: { help: "window (default 7d)", flag: "--since <duration>" },
      by: { help: "group by agent (default), phase, label, wo or model", flag: "--by <what>" },
    },
    options: (cmd) => cmd.option("--csv", "CSV instead of a table"),
    render: (r, _ctx, o) => ({
      warnings: r.truncated ? ["the window holds more attempts or spend records than one report reads: the figures cover its newest part; give a shorter --since"] : [],
      human: () => (o.csv === true ? render.reportCsv(r) : render.report(r)),
    }),
  });
}

/**
 * Reads the transcript, gives each message's usage to the agent's attempt it
 * falls in (attribution.ts; with --id, only that WO's attempts), and reports
 * each attempt's running totals per model with the session as the source: the
 * ledger records only their growth, so running it again adds nothing.
 */
async function fromTranscript(ledger: LedgerApi, input: Record<string, unknown>, path: string): Promise<TranscriptSpend> {
  const given = ["tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens", "cost_usd", "source", "model", "lease_token", "idempotency_key"].filter(
    (k) => input[k] !== undefined,
  );
  if (given.length) {
    throw new LedgerError("VALIDATION", `--from-transcript reads the figures itself: leave out ${given.map((k) => `--${k.replace(/_/g, "-")}`).join(", ")}`, {
      details: { issues: given.map((field) => ({ field, message: "not with --from-transcript" })) },
    });
  }
  let t: ReturnType<typeof readTranscript>;
  try {
    t = readTranscript(path);
  } catch (e) {
    throw new LedgerError("VALIDATION", `from_transcript: cannot read ${path}: ${(e as Error).message}`, {
      details: { issues: [{ field: "from_transcript", message: "unreadable" }] },
    });
  }
  const source = `transcript:${t.session ?? t.path}`;
  const first = t.usage.map((u) => u.at).sort()[0];
  const project = input.project as string;
  const agent = input.agent as string;
  const window = first === undefined ? [] : await ledger.attempts({ project, agent, limit: 10_000, ...(input.id === undefined ? {} : { id: input.id as number }) });
  const attempts = window.filter((a) => a.agent === agent);
  const owners = attribute(t.usage, attempts);
  const recorded: SpendResult[] = [];
  for (const [attempt, usage] of owners) {
    for (const [model, totals] of byModel(usage)) {
      recorded.push(
        await ledger.spend({
          project,
          agent,
          id: attempt.wo,
          lease_token: attempt.token,
          ...(input.phase === undefined ? {} : { phase: input.phase as string }),
          ...(model === null ? {} : { model }),
          ...totals,
          source,
        }),
      );
    }
  }
  const attributed = [...owners.values()].reduce((n, u) => n + u.length, 0);
  return { transcript: t.path, source, recorded, unattributed_messages: t.usage.length - attributed };
}

function transcriptText(r: TranscriptSpend): string {
  const lines = r.recorded.map((x) => render.spendResult(x));
  if (r.recorded.length === 0) lines.push("nothing to record: no usage in the transcript, or no attempt of yours to give it to");
  if (r.unattributed_messages) lines.push(`${r.unattributed_messages} messages not recorded: you had no attempt (claim) in this project to give them to`);
  return lines.join("\n");
}
