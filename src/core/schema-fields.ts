/**
 * The fields the input schemas (schemas.ts) are built from: names, ids,
 * durations, text bounds, a work order's fields, spend figures. Field names
 * follow the JSON contract of DESIGN.md §3.
 */
import * as z from "zod";
import { parseDuration, unitless } from "./duration.js";
import { fileListProblem, globProblem } from "./files.js";

import { once } from "./lazy.js";
import { PRIORITIES, ROLES, STATUSES, type NoteKind } from "./types.js";

export const REPORT_BY = ["agent", "phase", "label", "wo", "model"] as const;

export const DEFAULT_TTL_MS = 30 * 60_000;
export const MIN_TTL_MS = 1000;
export const MAX_TTL_MS = 7 * 86_400_000;
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const MAX_ID = 2_147_483_647;

// Control characters (C0 other than tab/newline/CR, DEL, C1) break terminals and logs.
export const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// On one line: no C0 or C1 controls (terminal escapes), and no bidi overrides or
// isolates, which make a name or a command read differently from what it is.
export const LINE_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// A UTF-16 surrogate without its partner is not text: SQLite stores it altered and PostgreSQL refuses it.
export const LONE_SURROGATE = /[\ud800-\udfff]/u;
export const wellFormed = { error: "must be valid Unicode text (it holds a lone surrogate such as \\ud800)" };

export const text = (max: number) =>
  z
    .string({ error: "must be a string" })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !CONTROL.test(s), { error: "must not contain control characters" })
    .refine((s) => !LONE_SURROGATE.test(s), wellFormed);
export const line = (min: number, max: number, what = "characters") =>
  z
    .string({ error: "must be a string" })
    .min(min, { error: min === 1 ? "must not be empty" : `must be at least ${min} ${what}` })
    .max(max, { error: `must be at most ${max} ${what}` })
    .refine((s) => !LINE_CONTROL.test(s), { error: "must be a single line without control characters or bidi overrides" })
    .refine((s) => !LONE_SURROGATE.test(s), wellFormed);
export const list = (item: z.ZodType<string>, max: number) => z.array(item, { error: "must be an array of strings" }).max(max, { error: `must have at most ${max} entries` });

export const projectName = z
  .string({ error: "must be a string" })
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
    error: "must match ^[a-z0-9][a-z0-9._-]{0,63}$ (lower-case letters, digits, . _ -; start with a letter or digit)",
  })
  .describe("project");

export const agentName = z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9][A-Za-z0-9._@:+/-]{0,127}$/, {
  error: "must be 1-128 characters of letters, digits and . _ @ : + / - starting with a letter or digit",
});

/**
 * How a schema is advertised to MCP clients when it accepts more than one JSON
 * type: some clients map tools onto a single-type dialect and reject a `type`
 * array or an anyOf, so the tool list names the one type a model should send
 * (the server still accepts the others).
 */
export const TOOL_JSON = new WeakMap<z.ZodType, Record<string, unknown>>();
export const advertised = <T extends z.ZodType>(schema: T, json: Record<string, unknown>): T => {
  TOOL_JSON.set(schema, json);
  return schema;
};

/** `53`, `"53"`, `"WO-53"` and `"wo-53"` all name work order 53. */
export const woId = advertised(
  z
    .union([z.number(), z.string()], { error: "must be a number like 53 or WO-53" })
    .describe("53 or WO-53")
    .transform((v, ctx) => {
      const n = typeof v === "number" ? v : /^\s*(?:wo-)?(\d{1,10})\s*$/i.test(v) ? Number(/(\d+)/.exec(v)?.[1]) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > MAX_ID) {
        ctx.addIssue({ code: "custom", message: `must be a work-order id like 53 or WO-53 (1-${MAX_ID}), got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    }),
  { type: "integer", description: "WO id, e.g. 53" },
);

/**
 * A duration with its unit (`90s`, `30m`, `2h`, `1d`) between min and max; yields
 * milliseconds. A number without a unit is refused with a suggestion: "30"
 * means 30 minutes to one agent and 30 seconds to another.
 */
export const duration = (minMs: number, maxMs: number, range: string) =>
  z
    .string({
      error: (iss) =>
        unitless(iss.input, minMs, maxMs) ? `needs a unit: did you mean ${unitless(iss.input, minMs, maxMs)}? (s, m, h or d)` : `must be a duration like 90s, 30m or 2h`,
    })
    .describe(`e.g. 90s, 30m, 2h; ${range.replace(" and ", " to ")}`)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      const guess = ms === null ? unitless(v, minMs, maxMs) : null;
      if (guess !== null) ctx.addIssue({ code: "custom", message: `needs a unit: did you mean ${guess}? (s, m, h or d)` });
      else if (ms === null || ms < minMs || ms > maxMs)
        ctx.addIssue({ code: "custom", message: `must be a duration between ${range} like 90s, 30m or 2h, got ${JSON.stringify(v)}` });
      else return ms;
      return z.NEVER;
    });

/** A lease's TTL (and verify's timeout): 1s to 7d. */
export const ttl = duration(MIN_TTL_MS, MAX_TTL_MS, "1s and 7d");
/** How long renewals may keep one lease: 1m to 30d. */
export const maxHold = duration(60_000, 30 * 86_400_000, "1m and 30d");
/** A project setting that is a duration (within `within`'s range), or `none` (null) to turn it off; `example` like 4h. */
export const durationOrNone = (within: typeof ttl, example: string, more: string) =>
  z
    .string({ error: `must be a duration like ${example}, or none` })
    .describe(`${example}, ${more}, or none`)
    .transform((v, ctx): number | null => {
      if (v.trim() === "none") return null;
      const r = within.safeParse(v);
      if (r.success) return r.data;
      for (const i of r.error.issues) ctx.addIssue({ code: "custom", message: i.message });
      return z.NEVER;
    });
/** How long ago a WO finished for prune to remove its history. */
export const retention = duration(1000, 36_600 * 86_400_000, "1s and 36600d");
/** A project's retention, which serve prunes by once a day; none: it never does. */
export const pruneAfterSetting = durationOrNone(retention, "180d", "365d");
/** A project's default cap on holding a lease; none removes it. */
export const maxHoldSetting = durationOrNone(maxHold, "4h", "1d");
/** A project's idle limit (1s to 7d); none: a keep-alive never stops for idleness. */
export const idleLimitSetting = durationOrNone(ttl, "20m", "2h");
/** A context's maximum age before it counts as stale. */
export const maxAge = duration(1, 366 * 86_400_000, "1ms and 366d");

export const priority = z.enum(PRIORITIES, { error: "must be one of P0, P1, P2, P3 (P0 is most urgent)" });
export const status = z.enum(STATUSES, { error: `must be one of ${STATUSES.join(", ")}` });
export const statusFilter = z.enum([...STATUSES, "all"], { error: `must be one of ${STATUSES.join(", ")}, all` });
/** What add-note takes: a verification note is verify's record of a run, never written by hand (thirteenth MCP trial: a holder's "PASSED" note). */
const WRITTEN_KINDS = ["progress", "finding", "blocker", "link"] as const satisfies readonly NoteKind[];
export const noteKind = z.enum(WRITTEN_KINDS, {
  error: `must be one of ${WRITTEN_KINDS.join(", ")} (verification notes are recorded by verify, which runs the command)`,
});
export const releaseStatus = z.enum(["open", "blocked", "done"], { error: "must be one of open, blocked, done" });
export const updateStatus = z.enum(["open", "blocked", "done", "cancelled"], {
  error: "must be one of open, blocked, done, cancelled (claim takes a lease; use claim for that)",
});
/** A stage or capability name: a word like enrich, code or db. */
export const WORD = /^[a-z][a-z0-9_-]{0,31}$/;
export const word = (what: string) =>
  z.string({ error: "must be a string" }).regex(WORD, { error: `must be a word like ${what} (lower-case letter first, then letters, digits, _ or -; at most 32)` });
export const stageName = word("enrich or ready").describe("a stage of the project");
export const capability = word("code, db or opus");
/** Capabilities: what an agent can do (`can`), what a WO needs (`requires`). */
export const capabilities = z
  .array(capability, { error: "must be an array of capabilities" })
  .max(20, { error: "must have at most 20 entries" })
  .refine((l) => new Set(l).size === l.length, { error: "must not repeat a capability" });
/** A list's page at most (issue 24: one reader's 10,000-row pages slowed every other request). */
export const MAX_PAGE = 1000;
/** A count of rows from 1 to `max`. */
export const countUpTo = (max: number, over = `must be at most ${max}`) =>
  z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).max(max, { error: over });
export const limit = countUpTo(10_000).describe("at most this many");
export const revision = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(0, { error: "must be 0 or more" })
  .describe("only if still at this revision");
/** An admin's reason to finish a WO without the passing verification its project requires. */
export const unverifiedReason = line(1, 1000).describe("admins: why done without verify");
export const leaseToken = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .describe("your claim's token (sent for you)");

/** Commits one check-commits request judges (the CLI sends a long range in parts). */
export const MAX_COMMITS_CHECKED = 1000;

/** Upper bounds of one spend report and of a cap: beyond them a figure is a mistake, not a bill. */
export const MAX_TOKENS = 10_000_000_000;
export const MAX_USD = 100_000;

export const amount = (max: number, what: string, int: boolean): z.ZodType<number, number> => {
  let n = z.number({ error: `must be a number (${what})` }).refine(Number.isFinite, { error: "must be a finite number" });
  if (int) n = n.refine(Number.isInteger, { error: "must be a whole number" });
  return n.refine((v) => v >= 0, { error: "must not be negative" }).refine((v) => v <= max, { error: `must be at most ${max} (${what})` });
};
export const tokens = (what: string) => amount(MAX_TOKENS, what, true);
export const usd = (what: string) => amount(MAX_USD, what, false);
/** A cap: a positive number, or null to remove it (advertised to models as the number). */
export const cap = (schema: z.ZodType<number, number>, json: Record<string, unknown>, help: string) =>
  advertised(schema.refine((v) => v > 0, { error: "must be more than 0 (null removes the cap)" }).nullable(), { ...json, description: help });
export const budgetFields = () => ({
  max_usd: cap(usd("USD"), { type: "number" }, "budget cap in USD; reached: dead-letter"),
  max_tokens: cap(tokens("tokens"), { type: "integer" }, "budget cap in tokens (input + output)"),
  max_attempts: cap(amount(10_000, "attempts", true), { type: "integer" }, "at most this many claims"),
});

/** Every editable WO field; used whole for create and partially for update. Built on first use, like `inputs`. */
export const woFields = once(() =>
  z.strictObject({
    // Blank is no title (twenty-second MCP trial: "   " made a WO whose branch was wo/24).
    title: line(1, 200)
      .refine((t) => t.trim() !== "", { error: "must not be blank" })
      .describe("one line"),
    description: text(100_000).describe("markdown"),
    // Copied into a `git clone` by the agents that read it: never an option, nor a transport that runs a command (thirty-fourth
    // MCP trial: `--upload-pack=…` and `ext::sh -c …` were stored).
    repo: line(0, 500)
      .refine((r) => !/^\s*-/.test(r) && !/^\s*(ext|fd)::/i.test(r), { error: "must be a URL, a path or org/name: not a git option nor an ext:: or fd:: transport" })
      .describe("URL or org/name"),
    acceptance: list(line(1, 1000), 100).describe("acceptance criteria"),
    scope: text(20_000).describe("what is in and out"),
    files: list(
      line(1, 1000).superRefine((p, ctx) => {
        const problem = globProblem(p);
        if (problem) ctx.addIssue({ code: "custom", message: `${JSON.stringify(p)} ${problem}` });
      }),
      500,
    )
      .superRefine((files, ctx) => {
        const problem = fileListProblem(files);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe("paths or globs"),
    // A shell command another agent will run: one line, nothing hidden (see SECURITY in the README).
    verification: line(0, 10_000).describe("shell command that must pass"),
    priority: priority.describe("P0 most urgent, default P2"),
    handover: text(100_000).describe("what the next agent must know"),
    labels: list(line(1, 64), 50).describe("tags"),
    depends_on: z.array(woId, { error: "must be an array of work-order ids" }).max(100, { error: "must have at most 100 entries" }).describe("ids that must be done first"),
    requires: capabilities.describe("capabilities a claimer needs"),
    ...budgetFields(),
  }),
);

/** verify's consent to run a command by an author the project does not list as trusted. */
export const trustFlag = () => z.boolean({ error: "must be true or false" }).describe("run it though its author is not in trusted_authors").optional();

/**
 * An item of a batch may depend on an earlier item of the same batch by its
 * place in the batch: `#1` is the first item (resolved to its id when the
 * batch is written; see Ledger.create).
 */
export const batchRef = z.string().regex(/^#\d{1,4}$/, { error: "must be a work-order id like 53 or WO-53, or #N for the Nth item of this batch" });
export const BATCH_DEPENDS_ON = "ids (53, WO-53) or #N: this batch's Nth item";

export const woCreate = once(() =>
  woFields()
    .partial()
    .required({ title: true })
    .extend({ stage: stageName.describe("default: the project's first").optional() }),
);
/** A work order of a create request: its depends_on may name earlier items of the batch. */
export const woCreateItem = once(() =>
  woCreate().extend({
    depends_on: z
      .array(advertised(z.union([woId, batchRef], { error: `must be ${BATCH_DEPENDS_ON}` }), { type: "string", description: "53, WO-53 or #N" }), {
        error: "must be an array of work-order ids",
      })
      .max(100, { error: "must have at most 100 entries" })
      .describe(BATCH_DEPENDS_ON)
      .optional(),
  }),
);
export const woPatch = once(() => woFields().partial());
export type WoCreateInput = z.input<ReturnType<typeof woCreateItem>>;
export type WoPatch = z.output<ReturnType<typeof woPatch>>;
export type WoCreate = z.output<ReturnType<typeof woCreate>>;
export type WoCreateItem = z.output<ReturnType<typeof woCreateItem>>;

export const gitState = once(() => z.strictObject({ head: line(0, 200), branch: line(0, 500).nullable(), dirty: z.boolean() }));

/**
 * Who acts: the agent, and its role (set by the HTTP door from the token,
 * never taken from a request). A caller that names no role is an agent: the
 * rules are guardrails that bind every caller, local ones too (DESIGN.md §9);
 * a local door passes admin only when its user asked for it (--as-admin).
 */
export const actor = { project: projectName, agent: agentName, role: z.enum(ROLES).default("agent") };
export const command = line(1, 10_000);
export const target = { ...actor, id: woId };
/** A write's idempotency key (see idempotency.ts): a retry with the same key and input gets the first result. */
export const idempotencyKey = line(1, 200).describe("a retry with the same key and input returns the first result").optional();
/** A first write creates its project, unless the name is a near miss of an existing one; this says the new name is meant. */
export const newProject = z.boolean({ error: "must be true or false" }).describe("the project name is new, not a typo").optional();

/** A spend report's figures; `source` makes them cumulative totals of that source (a transcript), of which only the growth is recorded. */
export const spendFields = {
  phase: z
    .string({ error: "must be a string" })
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, { error: "must be a word like enrich, execute, review or verify (lower-case, at most 32 characters)" })
    .describe("enrich, execute (default), review, verify, …")
    .optional(),
  model: z
    .string({ error: "must be a string" })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$/, { error: "must be a model name like claude-sonnet-4-5 (letters, digits, . _ : / @ -)" })
    .describe("model name; prices the tokens")
    .optional(),
  tokens_in: tokens("input tokens, cache included").describe("input tokens, cache included").optional(),
  tokens_out: tokens("output tokens").describe("output tokens").optional(),
  cache_read_tokens: tokens("cache reads").describe("of tokens_in: read from cache").optional(),
  cache_write_tokens: tokens("cache writes").describe("of tokens_in: written to cache").optional(),
  cost_usd: usd("USD").describe("cost; default from the model's price").optional(),
};
type Figures = Partial<Record<"tokens_in" | "tokens_out" | "cost_usd" | "cache_read_tokens" | "cache_write_tokens", number | undefined>>;
export const spendFigures = (v: Figures, ctx: z.RefinementCtx) => {
  if (v.tokens_in === undefined && v.tokens_out === undefined && v.cost_usd === undefined)
    ctx.addIssue({ code: "custom", path: ["tokens_in"], message: "give tokens_in, tokens_out or cost_usd" });
  // Compared only when each figure is itself valid: a bad one is already named, once.
  const valid = (n: number | undefined) => n === undefined || (typeof n === "number" && Number.isInteger(n) && n >= 0);
  if (![v.tokens_in, v.cache_read_tokens, v.cache_write_tokens].every(valid)) return;
  if ((v.cache_read_tokens ?? 0) + (v.cache_write_tokens ?? 0) > (v.tokens_in ?? 0))
    ctx.addIssue({ code: "custom", path: ["cache_read_tokens"], message: "cache reads and writes are part of tokens_in, so together at most tokens_in" });
};

/** A keep-alive's renewal: the WO records it (lease.renewed_at), the event log does not, so the log grows with work, not with time. */
export const keepalive = z.boolean({ error: "must be true or false" }).describe("a keep-alive's renewal: no event");

export const CLAIM_ONE_OF = "give exactly one of id or next";

/** What an agent can do; the door fills it in (a flag or WORKLEDGER_CAN, the MCP server's setting, a token's). */
export const can = capabilities.describe("your capabilities");
/** Which free work the caller wants, and whether to ignore what it can do. */
export const queueFields = {
  stage: stageName.describe("only this stage").optional(),
  labels: list(line(1, 64), 50).describe("only with any of these").optional(),
  can: can.optional(),
  any: z.boolean({ error: "must be true or false" }).describe("ignore required capabilities").optional(),
};

/** Claim's fields without its one-of rule (zod cannot derive schemas from a refined object). */
export const claimFields = z.strictObject({
  ...actor,
  id: woId.optional(),
  next: z.boolean().describe("take the most urgent free WO").optional(),
  ttl: ttl.optional(),
  exclusive_files: z.boolean().describe("refuse if its files overlap a held WO's").optional(),
  max_hold: maxHold.describe("renewals stop after this long (1m to 30d, like 2h)").optional(),
  idempotency_key: idempotencyKey,
  git: gitState().nullable().optional(),
  ...queueFields,
});

/** Spend's fields without its rules across fields (the MCP tool's schema: zod cannot derive one from a refined object). */
export const spendObject = once(() =>
  z.strictObject({
    ...target,
    ...spendFields,
    lease_token: leaseToken.describe("the attempt (default: your current or latest)").optional(),
    source: line(1, 200).describe("figures are this source's running totals; only growth is added").optional(),
    idempotency_key: idempotencyKey,
  }),
);
