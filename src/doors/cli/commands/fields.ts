/** The work-order field flags shared by create and update. */
import type { Command } from "commander";
import { append, collect, decimal, list, num, str, type Opts } from "../invocation.js";

export function addFieldOptions(cmd: Command): Command {
  return cmd
    .option("--title <text>", "one-line title (1-200 characters)")
    .option("--description <markdown>", "what and why")
    .option("--repo <repo>", "repository, e.g. org/name or a URL")
    .option("--acceptance <criterion>", "acceptance criterion (repeatable)", append)
    .option("--scope <text>", "what is in and out of scope")
    .option("--file <path-or-glob>", "file the work touches (repeatable)", append)
    .option("--verification <command>", "shell command that must pass for the work to be done")
    .option("--priority <P0-P3>", "P0 most urgent (default P2)")
    .option("--handover <text>", "what the next agent must know")
    .option("--label <label>", "label (repeatable, or comma-separated)", collect)
    .option("--depends-on <id>", "id that must be done first (repeatable, or comma-separated)", collect)
    .option("--requires <capabilities>", "capabilities an agent needs to claim it, comma-separated (e.g. code,db); empty: none", (v: string) => collect(v))
    .option("--max-usd <usd>", "budget cap in USD (none removes it); reaching it dead-letters the work order")
    .option("--max-tokens <n>", "budget cap in tokens, input plus output (none removes it)")
    .option("--max-attempts <n>", "at most this many claims (none removes it)");
}

/** A cap flag: `none` removes the cap (null), a number is a number, anything else goes on for the schema to name. */
export function capFlag(v: Opts[string]): number | string | null | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (s.trim().toLowerCase() === "none") return null;
  return decimal(s);
}

/** The fields given on the command line, in the JSON contract's names. */
export function fieldsFrom(o: Opts): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    title: str(o.title),
    description: str(o.description),
    repo: str(o.repo),
    acceptance: list(o.acceptance),
    scope: str(o.scope),
    files: list(o.file),
    verification: str(o.verification),
    priority: str(o.priority)?.toUpperCase(),
    handover: str(o.handover),
    labels: list(o.label),
    depends_on: list(o.dependsOn)?.map((d) => num(d)),
    requires: list(o.requires),
    max_usd: capFlag(o.maxUsd),
    max_tokens: capFlag(o.maxTokens),
    max_attempts: capFlag(o.maxAttempts),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
