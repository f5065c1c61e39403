/**
 * The one set of input schemas every door validates against (CLI flags, HTTP
 * bodies, MCP tool arguments, the library API), built from the fields of
 * schema-fields.ts, and the MCP tools' views of some of them.
 */
import * as z from "zod";
import { builtOnFirstRead, once } from "./lazy.js";
import { BRANCH_PREFIX } from "./branch.js";
import { CREDENTIAL } from "./credentials.js";
import { type CAP_FIELDS, ROLES, VERIFICATION_AUTHORS, WEBHOOK_EVENT_NAMES, WEBHOOK_FORMATS } from "./types.js";
import {
  REPORT_BY,
  text,
  line,
  list,
  projectName,
  agentName,
  advertised,
  woId,
  ttl,
  maxHoldSetting,
  idleLimitSetting,
  pruneAfterSetting,
  maxAge,
  retention,
  statusFilter,
  noteKind,
  releaseStatus,
  updateStatus,
  stageName,
  capabilities,
  MAX_PAGE,
  countUpTo,
  limit,
  revision,
  unverifiedReason,
  leaseToken,
  MAX_COMMITS_CHECKED,
  usd,
  budgetFields,
  trustFlag,
  woCreateItem,
  woPatch,
  gitState,
  actor,
  command,
  target,
  idempotencyKey,
  newProject,
  spendFields,
  spendFigures,
  keepalive,
  CLAIM_ONE_OF,
  can,
  queueFields,
  claimFields,
  spendObject,
} from "./schema-fields.js";

export * from "./schema-fields.js";

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
  /** Retention (service/retention.ts): an admin's. */
  prune: () =>
    z.strictObject({
      project: projectName.describe("this project only (default: every project)").optional(),
      before: retention.describe("prune WOs finished (done or cancelled) longer ago than this, e.g. 180d"),
      role: z.enum(ROLES).default("agent"),
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
  attention: () =>
    z.strictObject({
      project: projectName,
      since: maxAge.describe("window for lost leases, refused writes and failed verifications, default 7d").optional(),
    }),
  agents: () =>
    z.strictObject({
      project: projectName,
      since: maxAge.describe("agents seen this recently, default 24h").optional(),
    }),
  flow: () =>
    z.strictObject({
      project: projectName,
      since: maxAge.describe("window, default 24h").optional(),
      buckets: countUpTo(200).describe("intervals in the window, default 24").optional(),
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
      git: gitState().nullable().optional(),
      /** The repository the caller finishes from (its main work tree; the door fills it): a pass elsewhere did not check the work there. */
      finished_in: line(1, 4096).optional(),
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
      git: gitState().nullable().optional(),
      finished_in: line(1, 4096).optional(),
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
      /** The top-level directory of the work tree `dir` is in (a pass on the WO's branch answers a failure only there). */
      top: line(1, 4096).optional(),
      /** The repository it is in (its main work tree): a pass on the WO's branch answers a failure only in the same one. */
      repo: line(1, 4096).optional(),
      /** The work tree was clean when the command started and is not now: the command changed it. */
      changed_by_run: z.literal(true).optional(),
      /** HEAD moved while the command ran (git names the commit after the run). */
      head_moved: z.literal(true).optional(),
      /** What the command ran in: bwrap, or none (exec/sandbox.ts). */
      sandbox: z.enum(["bwrap", "none"], { error: "must be bwrap or none" }).optional(),
      block_on_fail: z.boolean().optional(),
      lease_token: leaseToken.optional(),
      idempotency_key: idempotencyKey,
    }),
  /** Which command the caller's verify may run now (see verifyCommand in ledger.ts). */
  verifyCommand: () =>
    z.strictObject({
      ...target,
      lease_token: leaseToken.optional(),
      trust: trustFlag(),
      idempotency_key: idempotencyKey,
      dir: line(1, 4096).describe("where it will run: a retry with the same key answers the first result only for the same directory").optional(),
    }),
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
          .describe("variables passed to verification commands besides PATH, HOME, LANG and the like")
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
        prune_after: pruneAfterSetting.optional(),
      })
      .refine((v) => Object.entries(v).some(([k, x]) => !["project", "agent", "role"].includes(k) && x !== undefined), {
        error:
          "give at least one setting: verification_authors, require_verification, max_hold, max_usd, max_tokens, max_attempts, prices, trusted_authors, verification_env, verification_network, require_sandbox, stages, done_stage, idle_limit, branch_prefix or prune_after",
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
      // It goes into the commit every later holder reads (thirty-sixth MCP trial: a token in it reached the branch).
      message: line(1, 1000)
        .refine((m) => !CREDENTIAL.test(m), { error: "must not hold a credential (a key or token): it goes into the commit every later holder reads" })
        .describe("what the checkpoint holds"),
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
 * every byte of it): budget caps (admins change them; the project's defaults
 * apply, and create still takes smaller ones), and spend's running-total source and
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
