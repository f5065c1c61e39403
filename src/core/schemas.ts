/**
 * The one set of input schemas every door validates against (CLI flags, HTTP
 * bodies, MCP tool arguments, the library API). Field names follow the JSON
 * contract of DESIGN.md §3.
 */
import * as z from "zod";
import { parseDuration, unitless } from "./duration.js";
import { fileListProblem, globProblem } from "./files.js";
import { BRANCH_PREFIX } from "./branch.js";
import { builtOnFirstRead, once } from "./lazy.js";
import { type CAP_FIELDS, NOTE_KINDS, PRIORITIES, ROLES, STATUSES, VERIFICATION_AUTHORS, WEBHOOK_EVENT_NAMES, WEBHOOK_FORMATS } from "./types.js";

export const REPORT_BY = ["agent", "phase", "label", "wo", "model"] as const;

export const DEFAULT_TTL_MS = 30 * 60_000;
export const MIN_TTL_MS = 1000;
export const MAX_TTL_MS = 7 * 86_400_000;
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const MAX_ID = 2_147_483_647;

// Control characters (C0 other than tab/newline/CR, DEL, C1) break terminals and logs.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
// On one line: no C0 or C1 controls (terminal escapes), and no bidi overrides or
// isolates, which make a name or a command read differently from what it is.
const LINE_CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// A UTF-16 surrogate without its partner is not text: SQLite stores it altered and PostgreSQL refuses it.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const wellFormed = { error: "must be valid Unicode text (it holds a lone surrogate such as \\ud800)" };

const text = (max: number) =>
  z
    .string({ error: "must be a string" })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !CONTROL.test(s), { error: "must not contain control characters" })
    .refine((s) => !LONE_SURROGATE.test(s), wellFormed);
const line = (min: number, max: number, what = "characters") =>
  z
    .string({ error: "must be a string" })
    .min(min, { error: min === 1 ? "must not be empty" : `must be at least ${min} ${what}` })
    .max(max, { error: `must be at most ${max} ${what}` })
    .refine((s) => !LINE_CONTROL.test(s), { error: "must be a single line without control characters or bidi overrides" })
    .refine((s) => !LONE_SURROGATE.test(s), wellFormed);
const list = (item: z.ZodType<string>, max: number) => z.array(item, { error: "must be an array of strings" }).max(max, { error: `must have at most ${max} entries` });

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
const advertised = <T extends z.ZodType>(schema: T, json: Record<string, unknown>): T => {
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
const duration = (minMs: number, maxMs: number, range: string) =>
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
const durationOrNone = (within: typeof ttl, example: string, more: string) =>
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
/** A project's default cap on holding a lease; none removes it. */
const maxHoldSetting = durationOrNone(maxHold, "4h", "1d");
/** A project's idle limit (1s to 7d); none: a keep-alive never stops for idleness. */
const idleLimitSetting = durationOrNone(ttl, "20m", "2h");
/** A context's maximum age before it counts as stale. */
export const maxAge = duration(1, 366 * 86_400_000, "1ms and 366d");

export const priority = z.enum(PRIORITIES, { error: "must be one of P0, P1, P2, P3 (P0 is most urgent)" });
export const status = z.enum(STATUSES, { error: `must be one of ${STATUSES.join(", ")}` });
export const statusFilter = z.enum([...STATUSES, "all"], { error: `must be one of ${STATUSES.join(", ")}, all` });
export const noteKind = z.enum(NOTE_KINDS, { error: `must be one of ${NOTE_KINDS.join(", ")}` });
export const releaseStatus = z.enum(["open", "blocked", "done"], { error: "must be one of open, blocked, done" });
export const updateStatus = z.enum(["open", "blocked", "done", "cancelled"], {
  error: "must be one of open, blocked, done, cancelled (claim takes a lease; use claim for that)",
});
/** A stage or capability name: a word like enrich, code or db. */
const WORD = /^[a-z][a-z0-9_-]{0,31}$/;
const word = (what: string) =>
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
const countUpTo = (max: number, over = `must be at most ${max}`) =>
  z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).max(max, { error: over });
const limit = countUpTo(10_000).describe("at most this many");
const revision = z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(0, { error: "must be 0 or more" }).describe("only if still at this revision");
/** An admin's reason to finish a WO without the passing verification its project requires. */
const unverifiedReason = line(1, 1000).describe("admins: why done without verify");
const leaseToken = z
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .describe("your claim's token (sent for you)");

/** Commits one check-commits request judges (the CLI sends a long range in parts). */
export const MAX_COMMITS_CHECKED = 1000;

/** Upper bounds of one spend report and of a cap: beyond them a figure is a mistake, not a bill. */
export const MAX_TOKENS = 10_000_000_000;
export const MAX_USD = 100_000;

const amount = (max: number, what: string, int: boolean): z.ZodType<number, number> => {
  let n = z.number({ error: `must be a number (${what})` }).refine(Number.isFinite, { error: "must be a finite number" });
  if (int) n = n.refine(Number.isInteger, { error: "must be a whole number" });
  return n.refine((v) => v >= 0, { error: "must not be negative" }).refine((v) => v <= max, { error: `must be at most ${max} (${what})` });
};
const tokens = (what: string) => amount(MAX_TOKENS, what, true);
const usd = (what: string) => amount(MAX_USD, what, false);
/** A cap: a positive number, or null to remove it (advertised to models as the number). */
const cap = (schema: z.ZodType<number, number>, json: Record<string, unknown>, help: string) =>
  advertised(schema.refine((v) => v > 0, { error: "must be more than 0 (null removes the cap)" }).nullable(), { ...json, description: help });
const budgetFields = () => ({
  max_usd: cap(usd("USD"), { type: "number" }, "budget cap in USD; reached: dead-letter"),
  max_tokens: cap(tokens("tokens"), { type: "integer" }, "budget cap in tokens (input + output)"),
  max_attempts: cap(amount(10_000, "attempts", true), { type: "integer" }, "at most this many claims"),
});

/** Every editable WO field; used whole for create and partially for update. Built on first use, like `inputs`. */
export const woFields = once(() =>
  z.strictObject({
    title: line(1, 200).describe("one line"),
    description: text(100_000).describe("markdown"),
    repo: line(0, 500).describe("URL or org/name"),
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
const trustFlag = () => z.boolean({ error: "must be true or false" }).describe("run an untrusted author's command").optional();

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
const actor = { project: projectName, agent: agentName, role: z.enum(ROLES).default("agent") };
const command = line(1, 10_000);
const target = { ...actor, id: woId };
/** A write's idempotency key (see idempotency.ts): a retry with the same key and input gets the first result. */
const idempotencyKey = line(1, 200).describe("a retry with the same key and input returns the first result").optional();
/** A first write creates its project, unless the name is a near miss of an existing one; this says the new name is meant. */
const newProject = z.boolean({ error: "must be true or false" }).describe("the project name is new, not a typo").optional();

/** A spend report's figures; `source` makes them cumulative totals of that source (a transcript), of which only the growth is recorded. */
const spendFields = {
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
const spendFigures = (v: Figures, ctx: z.RefinementCtx) => {
  if (v.tokens_in === undefined && v.tokens_out === undefined && v.cost_usd === undefined)
    ctx.addIssue({ code: "custom", path: ["tokens_in"], message: "give tokens_in, tokens_out or cost_usd" });
  // Compared only when each figure is itself valid: a bad one is already named, once.
  const valid = (n: number | undefined) => n === undefined || (typeof n === "number" && Number.isInteger(n) && n >= 0);
  if (![v.tokens_in, v.cache_read_tokens, v.cache_write_tokens].every(valid)) return;
  if ((v.cache_read_tokens ?? 0) + (v.cache_write_tokens ?? 0) > (v.tokens_in ?? 0))
    ctx.addIssue({ code: "custom", path: ["cache_read_tokens"], message: "cache reads and writes are part of tokens_in, so together at most tokens_in" });
};

/** A keep-alive's renewal: the WO records it (lease.renewed_at), the event log does not, so the log grows with work, not with time. */
const keepalive = z.boolean({ error: "must be true or false" }).describe("a keep-alive's renewal: no event");

export const CLAIM_ONE_OF = "give exactly one of id or next";

/** What an agent can do; the door fills it in (a flag or WORKLEDGER_CAN, the MCP server's setting, a token's). */
const can = capabilities.describe("your capabilities");
/** Which free work the caller wants, and whether to ignore what it can do. */
const queueFields = {
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
  max_hold: maxHold.describe("renewals stop after this long").optional(),
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

/**
 * Each door's input schemas by operation. Each is built when first read (see
 * ./lazy.ts): a CLI command pays only for the one it validates.
 */
export const inputs = builtOnFirstRead({
  createProject: () => z.strictObject({ ...actor, new_project: z.boolean().describe("create it though its name is close to an existing one").optional() }),
  projects: () => z.strictObject({ project: projectName.optional() }),
  create: () =>
    z.strictObject({
      ...actor,
      items: z
        .array(woCreateItem(), { error: "must be an array of work orders" })
        .min(1, { error: "must contain at least one work order" })
        .max(1000, { error: "must contain at most 1000 work orders" })
        .describe("work orders, all created or none"),
      idempotency_key: line(1, 200).describe("a retry with the same key creates nothing new").optional(),
      new_project: newProject,
    }),
  /** `git`: the caller's work tree, which linked context is judged against (the door fills it in). */
  get: () => z.strictObject({ project: projectName, id: woId, git: gitState().nullable().optional() }),
  list: () =>
    z.strictObject({
      project: projectName.optional(),
      status: statusFilter.describe("default: open, claimed, blocked").optional(),
      label: line(1, 64).describe("only with this label").optional(),
      agent: agentName.describe("only WOs this agent holds (yours: your name)").optional(),
      limit: countUpTo(MAX_PAGE, `must be at most ${MAX_PAGE}: page on with after (the last id of this page)`).describe(`at most ${MAX_PAGE}`).optional(),
      after: woId.describe("next page: ids after this").optional(),
    }),
  findUnclaimed: () => z.strictObject({ project: projectName, limit: limit.optional(), ...queueFields }),
  claim: () => claimFields.refine((v) => (v.id === undefined) !== (v.next !== true), { error: CLAIM_ONE_OF, path: ["id"] }),
  renew: () =>
    z.strictObject({
      ...target,
      ttl: ttl.optional(),
      lease_token: leaseToken.optional(),
      keepalive: keepalive.optional(),
      /** A keep-alive's: how long ago (by its own clock) the agent last did something; past the project's idle limit the lease ends. */
      idle_ms: z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(0, { error: "must not be negative" }).optional(),
      idempotency_key: idempotencyKey,
    }),
  renewAll: () => z.strictObject({ ...actor, ttl: ttl.optional(), keepalive: keepalive.optional() }),
  spend: () => spendObject().superRefine(spendFigures),
  attempts: () =>
    z.strictObject({
      project: projectName,
      id: woId.describe("this WO's attempts (else the project's)").optional(),
      agent: agentName.describe("only this agent's").optional(),
      since: maxAge.describe("only those started this recently").optional(),
      limit: limit.describe("the newest this many (default 100)").optional(),
    }),
  report: () =>
    z.strictObject({
      project: projectName,
      since: maxAge.describe("window, default 7d").optional(),
      by: z
        .enum(REPORT_BY, { error: `must be one of ${REPORT_BY.join(", ")}` })
        .describe("group rows by")
        .optional(),
    }),
  release: () =>
    z.strictObject({
      ...target,
      status: releaseStatus.describe("set in the same step (done to finish)").optional(),
      stage: stageName.describe("hand on to this stage").optional(),
      note: text(100_000).describe("why, recorded as a note").optional(),
      lease_token: leaseToken.optional(),
      unverified_reason: unverifiedReason.optional(),
      spend: z.strictObject(spendFields).superRefine(spendFigures).describe("what this attempt cost, recorded before it ends (as spend)").optional(),
      idempotency_key: idempotencyKey,
    }),
  update: () =>
    z.strictObject({
      ...target,
      fields: woPatch().describe("fields to change").optional(),
      status: updateStatus.describe("ends a holder's lease").optional(),
      stage: stageName.describe("hand on to this stage (ends your lease)").optional(),
      note: text(100_000).describe("recorded as a note").optional(),
      if_revision: revision.optional(),
      lease_token: leaseToken.optional(),
      unverified_reason: unverifiedReason.optional(),
      idempotency_key: idempotencyKey,
    }),
  addNote: () =>
    z.strictObject({
      ...target,
      kind: noteKind.describe("default progress; link for a PR or commit").optional(),
      body: text(100_000)
        .refine((s) => s.trim().length > 0, { error: "must not be empty" })
        .describe("the note"),
      lease_token: leaseToken.optional(),
      idempotency_key: idempotencyKey,
    }),
  verification: () =>
    z.strictObject({
      ...target,
      passed: z.boolean(),
      exit_code: z.number().int().nullable(),
      duration_ms: z.number().min(0),
      output_tail: text(100_000),
      /** The command that was run (the pinned one for the holder), the directory it ran in, and that work tree's git state. */
      command,
      dir: line(1, 4096).optional(),
      git: gitState().nullable().optional(),
      /** What the command ran in: bwrap, or none (exec/sandbox.ts). */
      sandbox: z.enum(["bwrap", "none"], { error: "must be bwrap or none" }).optional(),
      block_on_fail: z.boolean().optional(),
      lease_token: leaseToken.optional(),
      idempotency_key: idempotencyKey,
    }),
  /** Which command the caller's verify may run now (see verifyCommand in ledger.ts). */
  verifyCommand: () => z.strictObject({ ...target, lease_token: leaseToken.optional(), trust: trustFlag() }),
  setPolicy: () =>
    z
      .strictObject({
        ...actor,
        verification_authors: z.enum(VERIFICATION_AUTHORS, { error: `must be one of ${VERIFICATION_AUTHORS.join(", ")}` }).optional(),
        require_verification: z.boolean({ error: "must be true or false" }).optional(),
        max_hold: maxHoldSetting.optional(),
        ...(Object.fromEntries(Object.entries(budgetFields()).map(([k, f]) => [k, f.optional()])) as {
          [K in keyof ReturnType<typeof budgetFields>]: z.ZodOptional<ReturnType<typeof budgetFields>[K]>;
        }),
        prices: z
          .record(
            line(1, 100),
            z.strictObject({ input: usd("USD per million tokens"), output: usd("USD per million tokens"), cache_write: usd("USD").optional(), cache_read: usd("USD").optional() }),
          )
          .refine((r) => Object.keys(r).length <= 100, { error: "must have at most 100 models" })
          .nullable()
          .describe("USD per million tokens by model prefix; null: built-in")
          .optional(),
        trusted_authors: list(agentName, 100).nullable().describe("verify runs only these authors' commands without trust; null: any allowed author").optional(),
        verification_env: list(z.string({ error: "must be a string" }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { error: "must be an environment variable name" }), 100)
          .describe("variables passed to verification commands although they look secret")
          .optional(),
        verification_network: z.boolean({ error: "must be true or false" }).describe("verification commands may use the network").optional(),
        require_sandbox: z.boolean({ error: "must be true or false" }).describe("verify refuses to run without a sandbox (bwrap)").optional(),
        stages: z
          .array(stageName, { error: "must be an array of stage names" })
          .max(20, { error: "must have at most 20 stages" })
          .refine((l) => new Set(l).size === l.length, { error: "must not repeat a stage" })
          .describe("the pipeline in order; empty: none")
          .optional(),
        done_stage: stageName.nullable().describe("work is done only from this stage; null: any").optional(),
        idle_limit: idleLimitSetting.optional(),
        branch_prefix: z
          .string({ error: "must be a string" })
          .max(32, { error: "must be at most 32 characters" })
          .regex(BRANCH_PREFIX, { error: "must be words of a-z, 0-9, . _ - joined by /, ending in / or - (like wo/ or team/wo-), or empty" })
          .describe("new WOs' branches start with this (default wo/)")
          .optional(),
      })
      .refine((v) => Object.entries(v).some(([k, x]) => !["project", "agent", "role"].includes(k) && x !== undefined), {
        error:
          "give at least one setting: verification_authors, require_verification, max_hold, max_usd, max_tokens, max_attempts, prices, trusted_authors, verification_env, verification_network, require_sandbox, stages, done_stage, idle_limit or branch_prefix",
        path: ["verification_authors"],
      }),
  /** A request to run a WO's verification command (the door runs it, then records a `verification`). */
  verify: () =>
    z.strictObject({
      ...target,
      timeout: ttl.describe("default 10m").optional(),
      dir: line(1, 4096).describe("default: your worktree for it, else your working directory").optional(),
      trust: trustFlag(),
      block_on_fail: z.boolean().describe("mark it blocked if it fails").optional(),
      lease_token: leaseToken.optional(),
      idempotency_key: idempotencyKey,
    }),
  /** Whether the caller holds a WO's live lease (worktree and checkpoint ask before touching git). */
  holding: () => z.strictObject({ ...target, lease_token: leaseToken.optional() }),
  /** A commit of the holder's work tree to the WO's branch, recorded under its lease. */
  checkpoint: () =>
    z.strictObject({
      ...target,
      commit: z.string({ error: "must be a string" }).regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, { error: "must be a full git commit id (40 or 64 hex digits)" }),
      message: line(1, 1000).describe("what the checkpoint holds"),
      lease_token: leaseToken.optional(),
      idempotency_key: idempotencyKey,
    }),
  /** A webhook subscription (admins): where, which events (types, needs-human, or *), of which project (default: all). */
  webhookAdd: () =>
    z.strictObject({
      agent: agentName,
      role: z.enum(ROLES).default("agent"),
      project: projectName.describe("only this project's events (default: every project's)").optional(),
      url: line(1, 2048).describe("http(s) URL that receives the events"),
      events: z
        .array(z.enum(WEBHOOK_EVENT_NAMES, { error: `must be one of ${WEBHOOK_EVENT_NAMES.join(", ")}` }), { error: "must be an array of event types" })
        .min(1, { error: "must name at least one event type (or needs-human, or *)" })
        .max(20, { error: "must have at most 20 entries" }),
      format: z.enum(WEBHOOK_FORMATS, { error: `must be one of ${WEBHOOK_FORMATS.join(", ")}` }).optional(),
      allow_private: z.boolean({ error: "must be true or false" }).describe("let it reach private and loopback addresses").optional(),
    }),
  webhookList: () => z.strictObject({ agent: agentName, role: z.enum(ROLES).default("agent") }),
  /** One subscription by id (pause, resume, test, delete). */
  webhook: () =>
    z.strictObject({
      agent: agentName,
      role: z.enum(ROLES).default("agent"),
      id: z.string({ error: "must be a string" }).regex(/^[0-9a-f]{12}$/, { error: "must be a subscription id as webhook list shows it (12 hex digits)" }),
    }),
  /** Commits that name a lease of the project in their trailers, judged against its attempts (at: the commit's date; default now). */
  checkCommits: () =>
    z.strictObject({
      project: projectName,
      commits: z
        .array(
          z.strictObject({
            /** Absent for a commit being made (the commit-msg hook). */
            commit: z
              .string({ error: "must be a string" })
              .regex(/^[0-9a-f]{4,64}$/, { error: "must be a git commit id (hex)" })
              .optional(),
            id: woId,
            token: leaseToken,
            at: z.iso
              .datetime({ offset: true, error: "must be a date and time like 2026-12-05T07:41:41Z" })
              .transform((s) => new Date(s).toISOString())
              .optional(),
          }),
          { error: "must be an array of {commit, id, token, at}" },
        )
        .min(1, { error: "must name at least one commit" })
        .max(MAX_COMMITS_CHECKED, { error: `must have at most ${MAX_COMMITS_CHECKED} entries (check a long range in parts)` }),
    }),
  /** The worktree of the caller's attempt on a WO (created on its branch), or with `prune` the removal of finished ones. */
  worktree: () =>
    z.strictObject({
      ...actor,
      /** Required unless `prune`. */
      id: woId.optional(),
      dir: line(1, 4096).describe("default: your working directory").optional(),
      prune: z.boolean().describe("remove worktrees of done or cancelled WOs that hold no uncommitted changes").optional(),
      lease_token: leaseToken.optional(),
    }),
  /** Commit the work tree's changes (tracked and untracked) to the WO's branch as a checkpoint. */
  commitCheckpoint: () =>
    z.strictObject({
      ...target,
      message: line(1, 1000).describe("what the checkpoint holds"),
      dir: line(1, 4096).describe("the worktree (default: your working directory, else your attempt's worktree)").optional(),
      lease_token: leaseToken.optional(),
      idempotency_key: idempotencyKey,
    }),
  /** The WO whose branch to make sure of, in the git repository at `dir` (default: the caller's). */
  branch: () => z.strictObject({ project: projectName, id: woId, dir: line(1, 4096).describe("default: your working directory").optional() }),
  contextPut: () =>
    z.strictObject({
      ...actor,
      key: line(1, 100).describe("default handover").optional(),
      body: text(1_000_000)
        .refine((s) => s.trim().length > 0, { error: "must not be empty" })
        .describe("what you learned, changed and left unfinished"),
      /** The work order this context is about (claim and get show it to its next agent). */
      id: woId.optional(),
      lease_token: leaseToken.optional(),
      git: gitState().nullable().optional(),
      new_project: newProject,
      idempotency_key: idempotencyKey,
    }),
  contextPull: () =>
    z.strictObject({
      project: projectName,
      key: line(1, 100).describe("only this key").optional(),
      /** Only context linked to this work order. */
      id: woId.describe("only context linked to this WO").optional(),
      history: z.boolean().describe("every entry, newest first").optional(),
      max_age: maxAge.describe("older is stale (default 24h)").optional(),
      limit: limit.optional(),
      git: gitState().nullable().optional(),
    }),
  history: () =>
    z.strictObject({
      project: projectName,
      id: woId.optional(),
      limit: limit.describe("the newest this many (default 1000)").optional(),
      after: z.number().int().min(0).describe("events after this seq, oldest first").optional(),
    }),
  /** Who the caller is (see whoami.ts); without a project, its leases in every project. */
  whoami: () => z.strictObject({ project: projectName.optional(), agent: agentName.optional(), role: z.enum(ROLES).optional(), can: can.optional() }),
  events: () => z.strictObject({ project: projectName.optional(), after: z.number().int().min(0).optional(), limit: limit.optional() }),
  tokenCreate: () =>
    z.strictObject({
      agent: agentName,
      role: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }),
      project: projectName.optional(),
      can: capabilities.describe("the most its holder may declare; default: whatever it declares").optional(),
    }),
  tokenRevoke: () => z.strictObject({ id: z.string().regex(/^[0-9a-f]{12}$/, { error: "must be a token id as shown by token list (12 hex digits)" }) }),
});

/**
 * The MCP create tool's arguments: `items`, or one work order's fields at the
 * top level (an agent's first guess; the server wraps them into `items`).
 */
export const createTool = once(() => {
  const c = inputs.create as z.ZodObject;
  const items = advertised(c.shape.items as z.ZodType, {
    type: "array",
    items: { type: "object" },
    description: "several WOs, each with the fields above; all or none",
  });
  return c.extend({ ...woCreateItem().partial().omit(CAPS).shape, items: items.optional() });
});

/**
 * What the MCP tools leave out to keep the tool list small (a model pays for
 * every byte of it): budget caps (admins set them; the project's defaults
 * apply, and `items` still takes them), and spend's running-total source and
 * cache split (the CLI's transcript reader sends those).
 */
const CAPS = { max_usd: true, max_tokens: true, max_attempts: true } as const satisfies Record<(typeof CAP_FIELDS)[number], true>;
/** update's fields are create's: advertised as an object naming them, not each again (the server still checks every one). */
export const updateTool = once(() =>
  (inputs.update as z.ZodObject).extend({
    fields: advertised(woPatch().omit(CAPS), { type: "object", description: "fields to change, as in create (title, scope, files, verification, …)" }).optional(),
  }),
);
/** worktree and checkpoint as a model calls them: in the server's repository (the client's), prune left to people. */
export const worktreeTool = once(() => (inputs.worktree as z.ZodObject).omit({ dir: true, prune: true }).extend({ id: woId }));
export const checkpointTool = once(() => (inputs.commitCheckpoint as z.ZodObject).omit({ dir: true }));
export const releaseTool = once(() => (inputs.release as z.ZodObject).omit({ spend: true }));
export const spendTool = once(() => spendObject().omit({ source: true, cache_read_tokens: true, cache_write_tokens: true }));

export type Inputs = { [K in keyof typeof inputs]: z.input<(typeof inputs)[K]> };
export type Parsed = { [K in keyof typeof inputs]: z.output<(typeof inputs)[K]> };
