/**
 * The work_orders row as both SQL adapters store it. Only how list columns
 * are encoded differs (JSON text on SQLite, native arrays on PostgreSQL), so
 * each adapter passes its codec and shares the mapping.
 */
import { NO_SPEND } from "../core/budget.js";
import { toUsd } from "../core/pricing.js";
import { DEFAULT_POLICY } from "../core/verification.js";
import { legacyBranch } from "../core/branch.js";
import {
  STATUSES,
  type PriceTable,
  type Project,
  type ProjectPolicy,
  type ProjectSummary,
  type SpendRecord,
  type SpendTotals,
  type StoredWorkOrder,
  type VerificationAuthors,
} from "../core/types.js";

export interface WorkOrderRowOf<L> {
  project: string;
  id: number;
  title: string;
  description: string;
  repo: string;
  acceptance: L;
  scope: string;
  files: L;
  verification: string;
  priority: string;
  handover: string;
  labels: L;
  depends_on: L;
  status: string;
  prior_status: string | null;
  lease_agent: string | null;
  lease_token: number | null;
  lease_claimed_at: string | null;
  lease_expires_at: string | null;
  lease_renewed_at: string | null;
  lease_hold_until: string | null;
  fence: number;
  pinned_verification: string | null;
  /** JSON text on both stores (only the core reads them). */
  ended_leases: string;
  last_verification: string | null;
  max_usd: number | null;
  max_tokens: number | null;
  max_attempts: number | null;
  /** JSON text (SpendTotals). */
  spend: string;
  dead_letter: string | null;
  revision: number;
  created_by: string;
  created_at: string;
  updated_at: string;
  verification_by: string | null;
  stage: string | null;
  requires: L;
  branch: string | null;
}

export interface ListCodec<L> {
  decode(v: L): unknown[];
  encode(v: readonly unknown[]): L;
}

/** Columns in a fixed order, so statements are built once and their parameters line up. */
export const WO_COLUMNS = [
  "project",
  "id",
  "title",
  "description",
  "repo",
  "acceptance",
  "scope",
  "files",
  "verification",
  "priority",
  "handover",
  "labels",
  "depends_on",
  "status",
  "prior_status",
  "lease_agent",
  "lease_token",
  "lease_claimed_at",
  "lease_expires_at",
  "lease_renewed_at",
  "lease_hold_until",
  "fence",
  "pinned_verification",
  "ended_leases",
  "last_verification",
  "max_usd",
  "max_tokens",
  "max_attempts",
  "spend",
  "dead_letter",
  "revision",
  "created_by",
  "created_at",
  "updated_at",
  "verification_by",
  "stage",
  "requires",
  "branch",
] as const satisfies readonly (keyof WorkOrderRowOf<unknown>)[];

export function rowToWorkOrder<L>(r: WorkOrderRowOf<L>, c: ListCodec<L>): StoredWorkOrder {
  return {
    project: r.project,
    id: r.id,
    title: r.title,
    description: r.description,
    repo: r.repo,
    acceptance: c.decode(r.acceptance) as string[],
    scope: r.scope,
    files: c.decode(r.files) as string[],
    verification: r.verification,
    priority: r.priority as StoredWorkOrder["priority"],
    handover: r.handover,
    labels: c.decode(r.labels) as string[],
    depends_on: c.decode(r.depends_on) as number[],
    status: r.status as StoredWorkOrder["status"],
    lease:
      r.lease_agent === null || r.lease_expires_at === null
        ? null
        : {
            agent: r.lease_agent,
            token: r.lease_token ?? 0,
            claimed_at: r.lease_claimed_at ?? "",
            expires_at: r.lease_expires_at,
            renewed_at: r.lease_renewed_at,
            hold_until: r.lease_hold_until ?? null,
          },
    revision: r.revision,
    created_by: r.created_by,
    created_at: r.created_at,
    updated_at: r.updated_at,
    // Rows from before authors were recorded: the creator wrote it, unless someone changed it since (the events say).
    verification_by: r.verification_by ?? (r.verification.trim() ? r.created_by : null),
    prior_status: r.prior_status as StoredWorkOrder["prior_status"],
    fence: r.fence,
    pinned_verification: r.pinned_verification ?? null,
    ended_leases: r.ended_leases ? (JSON.parse(r.ended_leases) as StoredWorkOrder["ended_leases"]) : [],
    last_verification: r.last_verification ? (JSON.parse(r.last_verification) as StoredWorkOrder["last_verification"]) : null,
    max_usd: r.max_usd ?? null,
    max_tokens: r.max_tokens === null || r.max_tokens === undefined ? null : Number(r.max_tokens),
    max_attempts: r.max_attempts ?? null,
    spend: r.spend ? (JSON.parse(r.spend) as SpendTotals) : NO_SPEND,
    dead_letter: r.dead_letter ?? null,
    stage: r.stage ?? null,
    requires: r.requires === undefined || r.requires === null ? [] : (c.decode(r.requires) as string[]),
    branch: r.branch ?? legacyBranch(r.id),
  };
}

export function workOrderToRow<L>(wo: StoredWorkOrder, c: ListCodec<L>): WorkOrderRowOf<L> {
  return {
    project: wo.project,
    id: wo.id,
    title: wo.title,
    description: wo.description,
    repo: wo.repo,
    acceptance: c.encode(wo.acceptance),
    scope: wo.scope,
    files: c.encode(wo.files),
    verification: wo.verification,
    priority: wo.priority,
    handover: wo.handover,
    labels: c.encode(wo.labels),
    depends_on: c.encode(wo.depends_on),
    status: wo.status,
    prior_status: wo.prior_status,
    lease_agent: wo.lease?.agent ?? null,
    lease_token: wo.lease?.token ?? null,
    lease_claimed_at: wo.lease?.claimed_at ?? null,
    lease_expires_at: wo.lease?.expires_at ?? null,
    lease_renewed_at: wo.lease?.renewed_at ?? null,
    lease_hold_until: wo.lease?.hold_until ?? null,
    fence: wo.fence,
    pinned_verification: wo.pinned_verification,
    ended_leases: JSON.stringify(wo.ended_leases),
    last_verification: wo.last_verification === null ? null : JSON.stringify(wo.last_verification),
    max_usd: wo.max_usd,
    max_tokens: wo.max_tokens,
    max_attempts: wo.max_attempts,
    spend: JSON.stringify(wo.spend),
    dead_letter: wo.dead_letter,
    revision: wo.revision,
    created_by: wo.created_by,
    created_at: wo.created_at,
    updated_at: wo.updated_at,
    verification_by: wo.verification_by,
    stage: wo.stage,
    requires: c.encode(wo.requires),
    branch: wo.branch,
  };
}

/** The projects row as both adapters read it. */
export interface ProjectRow {
  name: string;
  created_at: string;
  verification_authors: string;
  require_verification: boolean | number;
  max_hold_ms: number | null;
  max_usd: number | null;
  max_tokens: number | null;
  max_attempts: number | null;
  /** JSON text (PriceTable). */
  prices: string | null;
  /** JSON text (VerificationRules); null: the defaults. */
  verification_rules: string | null;
  /** JSON text (WorkRules); null: the defaults. */
  work_rules: string | null;
}

/** The policy fields about running verification commands, stored as one JSON column. */
type VerificationRules = Pick<ProjectPolicy, "trusted_authors" | "verification_env" | "verification_network" | "require_sandbox">;
/** The policy fields about the pipeline, stored as one JSON column. */
type WorkRules = Pick<ProjectPolicy, "stages" | "done_stage" | "idle_limit_ms" | "branch_prefix" | "prune_after_ms">;

const PROJECT_FIELDS = [
  "name",
  "created_at",
  "verification_authors",
  "require_verification",
  "max_hold_ms",
  "max_usd",
  "max_tokens",
  "max_attempts",
  "prices",
  "verification_rules",
  "work_rules",
] as const satisfies readonly (keyof ProjectRow)[];
/** The columns of a ProjectRow, for SELECT (and, prefixed with the table's alias, GROUP BY) lists. */
export const projectColumns = (alias?: string) => PROJECT_FIELDS.map((c) => (alias ? `${alias}.${c}` : c)).join(", ");

export const toProject = (r: ProjectRow): Project => ({
  name: r.name,
  created_at: r.created_at,
  policy: {
    verification_authors: r.verification_authors as VerificationAuthors,
    require_verification: Boolean(r.require_verification),
    max_hold_ms: r.max_hold_ms === null ? null : Number(r.max_hold_ms),
    max_usd: r.max_usd,
    max_tokens: r.max_tokens === null ? null : Number(r.max_tokens),
    max_attempts: r.max_attempts,
    prices: r.prices === null ? null : (JSON.parse(r.prices) as PriceTable),
    ...verificationRules(r.verification_rules),
    ...workRules(r.work_rules),
  },
});

function workRules(json: string | null): WorkRules {
  const v = json === null ? {} : (JSON.parse(json) as Partial<WorkRules>);
  return {
    stages: v.stages ?? [],
    done_stage: v.done_stage ?? null,
    idle_limit_ms: v.idle_limit_ms === undefined ? DEFAULT_POLICY.idle_limit_ms : v.idle_limit_ms,
    branch_prefix: v.branch_prefix ?? DEFAULT_POLICY.branch_prefix,
    prune_after_ms: v.prune_after_ms ?? null,
  };
}

function verificationRules(json: string | null): VerificationRules {
  const v = json === null ? {} : (JSON.parse(json) as Partial<VerificationRules>);
  return {
    trusted_authors: v.trusted_authors ?? null,
    verification_env: v.verification_env ?? [],
    verification_network: v.verification_network ?? false,
    require_sandbox: v.require_sandbox ?? false,
  };
}

/** The policy columns a store writes, in PROJECT_FIELDS order after name and created_at. */
export const policyRow = (p: ProjectPolicy) => [
  p.verification_authors,
  p.require_verification,
  p.max_hold_ms,
  p.max_usd,
  p.max_tokens,
  p.max_attempts,
  p.prices === null ? null : JSON.stringify(p.prices),
  JSON.stringify({
    trusted_authors: p.trusted_authors,
    verification_env: p.verification_env,
    verification_network: p.verification_network,
    require_sandbox: p.require_sandbox,
  } satisfies VerificationRules),
  JSON.stringify({
    stages: p.stages,
    done_stage: p.done_stage,
    idle_limit_ms: p.idle_limit_ms,
    branch_prefix: p.branch_prefix,
    prune_after_ms: p.prune_after_ms,
  } satisfies WorkRules),
];
export const POLICY_COLUMNS = PROJECT_FIELDS.slice(2);

/** The attempts and spend rows as both adapters store them (money in whole micro-dollars). */
export type SpendRow = Omit<SpendRecord, "cost_usd"> & { cost_micros: number | null };
export const SPEND_COLUMNS = "id, project, wo, token, agent, phase, model, tokens_in, tokens_out, cache_read_tokens, cache_write_tokens, cost_micros, source, created_at";
export const toSpend = (r: SpendRow): SpendRecord => {
  const { cost_micros, ...rest } = r;
  return { ...rest, cost_usd: cost_micros === null ? null : toUsd(Number(cost_micros)) };
};
export const ATTEMPT_COLUMNS = "project, wo, token, agent, started_at, ended_at, outcome";
/**
 * The ids of the newest context entry of each key of a project, project-wide
 * and linked (wo NULL or not), each found by a seek in its partial index
 * (migration 0016); the keys by a loose scan of context_by_key, or the one
 * given. `p` and `k` are the store's project and key parameters (k null:
 * every key).
 */
export const latestContextIds = (p: string, k: string) => `WITH RECURSIVE keys(k) AS (
    SELECT CASE WHEN ${k} IS NULL THEN (SELECT min(key) FROM context WHERE project = ${p}) ELSE ${k} END
    UNION ALL
    SELECT (SELECT min(key) FROM context WHERE project = ${p} AND key > keys.k) FROM keys WHERE keys.k IS NOT NULL AND ${k} IS NULL)
  SELECT (SELECT max(id) FROM context WHERE project = ${p} AND key = keys.k AND wo IS NULL) AS id FROM keys WHERE keys.k IS NOT NULL
  UNION ALL
  SELECT (SELECT max(id) FROM context WHERE project = ${p} AND key = keys.k AND wo IS NOT NULL) FROM keys WHERE keys.k IS NOT NULL`;

/** What a report reads of a window (port.ts ReportWindow), newest first: the same ranges of the indexes by time as listAttempts and listSpend. */
export const REPORT_ATTEMPTS_SQL = "SELECT wo, token, agent, outcome FROM attempts WHERE project = $1 AND started_at >= $2 ORDER BY started_at DESC, wo DESC, token DESC LIMIT $3";
/** `day`: the store's expression for created_at's UTC day (a time parsed per row was half of PostgreSQL's report). */
export const reportSpendSql = (day: string) =>
  `SELECT wo, token, agent, phase, model, tokens_in, tokens_out, cost_micros, ${day} AS day FROM spend WHERE project = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT $3`;

/** Projects with per-status counts, from rows of (project, status, count) with a null status for empty projects. */
/** The statuses counted row by row; `done`, by far the most at any size, is the rest of the project's ids (COUNTED_SQL). */
export const COUNTED = ["open", "claimed", "blocked", "cancelled"] as const;

/**
 * One row per project and counted status: `n` WOs of it (its index's range),
 * and `next_id`. A project's ids are dense (allocated in the transaction that
 * inserts them; no WO is ever deleted, prune keeps each one; import keeps ids
 * and moves next_id past them), so its done WOs are next_id - 1 less the
 * others, without counting a million index entries (issue 29: 90 ms on
 * SQLite, 200 ms on PostgreSQL at 10^6 WOs).
 */
export const countedSql = (dialect: "sqlite" | "postgres") =>
  `SELECT ${projectColumns("p")}, p.next_id, s.status, (SELECT count(*) FROM work_orders w WHERE w.project = p.name AND w.status = s.status) AS n
   FROM projects p CROSS JOIN ${
     dialect === "sqlite" ? `(${COUNTED.map((c) => `SELECT '${c}' AS status`).join(" UNION ALL ")}) s` : `(VALUES ${COUNTED.map((c) => `('${c}')`).join(", ")}) s(status)`
   } ORDER BY p.name`;

export function foldProjectCounts(rows: readonly (ProjectRow & { next_id: number | string; status: string; n: number | string })[]): ProjectSummary[] {
  const out = new Map<string, ProjectSummary>();
  for (const r of rows) {
    let p = out.get(r.name);
    if (!p) {
      p = { ...toProject(r), counts: Object.fromEntries(STATUSES.map((s) => [s, 0])) as ProjectSummary["counts"] };
      p.counts.done = Number(r.next_id) - 1;
      out.set(r.name, p);
    }
    p.counts[r.status as keyof ProjectSummary["counts"]] = Number(r.n);
    p.counts.done -= Number(r.n);
  }
  return [...out.values()];
}
