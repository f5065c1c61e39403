/** Human renderings of ledger records. JSON output never passes through here. */
import type { PulledContext } from "../../core/freshness.js";
import type { ClaimResult, ContextPull, WoContext, WorkOrderWithNotes } from "../../core/ledger.js";
import type { FileConflict, LedgerEvent, Note, Project, ProjectSummary, Status, WorkOrder } from "../../core/types.js";
import { formatDuration } from "../../core/duration.js";
import { budgetLine, capsText, outcomeText, spendText } from "./render-spend.js";
import { c, oneLine, relative, shown, table } from "./output.js";

const STATUS_COLOR: Record<Status, (s: string) => string> = { open: c.green, claimed: c.yellow, blocked: c.red, done: c.dim, cancelled: c.dim };

export const woLabel = (wo: { id: number }) => `WO-${wo.id}`;

function leaseCell(wo: WorkOrder): string {
  if (!wo.lease) return "";
  return `${wo.lease.agent}, expires ${relative(wo.lease.expires_at)}`;
}

export function woRows(wos: readonly WorkOrder[], showProject = false): string {
  if (wos.length === 0) return c.dim("no work orders");
  return table(
    wos.map((w) => [
      ...(showProject ? [w.project] : []),
      c.bold(woLabel(w)),
      w.priority,
      STATUS_COLOR[w.status](w.status) + (w.stage === null ? "" : c.dim(` ${w.stage}`)),
      leaseCell(w),
      oneLine(w.title) + (w.labels.length ? c.dim(` [${shown(w.labels.join(", "))}]`) : ""),
    ]),
  );
}

export function conflictLines(found: readonly FileConflict[]): string[] {
  return found.map(
    (f) =>
      `files ${f.overlap === "unknown" ? "may overlap (too complex to compare)" : "overlap"} ${woLabel(f)} held by ${f.agent} ` +
      `(expires ${relative(f.expires_at)}): ${shown(f.files.join(", "))}`,
  );
}

export function claimed(wo: ClaimResult): string {
  const l = wo.lease;
  const head = l
    ? `${c.green("claimed")} ${c.bold(woLabel(wo))} ${oneLine(wo.title)}\nlease: ${l.agent}, token ${l.token}, expires ${relative(l.expires_at)} (${l.expires_at})`
    : woRows([wo]);
  return [head, ...woContext(wo.context)].join("\n");
}

/** The context linked to a WO, and a pointer to a newer project handover. */
function woContext(ctx: WoContext): string[] {
  const lines: string[] = [];
  if (ctx.linked) lines.push("", c.dim("context for this work order:"), contextEntry(ctx.linked));
  for (const e of ctx.also_linked ?? []) lines.push("", c.dim(`also linked to this work order (${e.key}):`), contextEntry(e));
  for (const d of ctx.dependencies ?? []) lines.push("", c.dim(`context from WO-${d.wo}, which this depends on:`), contextEntry(d));
  const newer = ctx.newer_handover;
  if (newer)
    lines.push(
      c.dim(
        `the project's handover is newer (${relative(newer.created_at)}, ${newer.agent}${newer.verdict === "stale" ? `; stale: ${newer.stale_reasons.join("; ")}` : ""}): read it with context-pull`,
      ),
    );
  return lines;
}

export function woDetail(wo: WorkOrder | WorkOrderWithNotes): string {
  const lines = [
    `${c.bold(woLabel(wo))} ${c.bold(oneLine(wo.title, 200))}`,
    `${STATUS_COLOR[wo.status](wo.status)}  ${wo.priority}  project ${wo.project}  revision ${wo.revision}`,
  ];
  if (wo.lease) lines.push(`lease: ${wo.lease.agent}, token ${wo.lease.token}, expires ${relative(wo.lease.expires_at)}`);
  const field = (name: string, v: string) => v && lines.push(`${c.dim(name + ":")} ${shown(v)}`);
  field("repo", wo.repo);
  field("stage", wo.stage ?? "");
  field("requires", wo.requires.join(", "));
  field("labels", wo.labels.join(", "));
  field("depends on", wo.depends_on.map((d) => `WO-${d}`).join(", "));
  field("files", wo.files.join(", "));
  field("verification", wo.verification && `${wo.verification}${wo.verification_by ? c.dim(` (written by ${wo.verification_by})`) : ""}`);
  field("created", `${relative(wo.created_at)} by ${wo.created_by}, updated ${relative(wo.updated_at)}`);
  field("budget", budgetLine(wo));
  if (wo.dead_letter) lines.push(c.red(`dead-letter: ${shown(wo.dead_letter)}`));
  if (wo.description) lines.push("", shown(wo.description));
  if (wo.acceptance.length) lines.push("", c.dim("acceptance:"), ...wo.acceptance.map((a) => `  [ ] ${shown(a)}`));
  if (wo.scope) lines.push("", c.dim("scope:"), shown(wo.scope));
  if (wo.handover) lines.push("", c.dim("handover:"), shown(wo.handover));
  if ("notes" in wo && wo.notes.length) lines.push("", c.dim("notes:"), ...wo.notes.map(noteLine));
  if ("checkpoints" in wo && wo.checkpoints.length)
    lines.push(
      "",
      c.dim(`checkpoints on ${wo.branch}:`),
      ...wo.checkpoints.map((k) => `  ${c.dim(relative(k.at))} ${k.commit.slice(0, 12)} ${k.agent} (lease ${k.token}): ${shown(oneLine(k.message))}`),
    );
  if ("context" in wo) lines.push(...woContext(wo.context));
  return lines.join("\n");
}

export const noteLine = (n: Note) => `  ${c.dim(relative(n.created_at))} ${n.agent} ${c.cyan(n.kind)}: ${shown(n.body).replace(/\n/g, "\n    ")}`;

export function projects(list: readonly ProjectSummary[]): string {
  if (list.length === 0) return c.dim("no projects");
  const head = ["PROJECT", "OPEN", "CLAIMED", "BLOCKED", "DONE", "CANCELLED", "VERIFICATION BY", "DONE NEEDS VERIFY", "MAX HOLD"].map(c.dim);
  return table([
    head,
    ...list.map((p) => [
      p.name,
      ...(["open", "claimed", "blocked", "done", "cancelled"] as const).map((s) => String(p.counts[s])),
      p.policy.verification_authors,
      p.policy.require_verification ? "yes" : "no",
      p.policy.max_hold_ms === null ? "-" : formatDuration(p.policy.max_hold_ms),
    ]),
  ]);
}

/** A project's policy in one line. */
export function policy(p: Project): string {
  const { verification_authors, require_verification, max_hold_ms } = p.policy;
  const idle = p.policy.idle_limit_ms === null ? "" : `, or an agent idle for ${formatDuration(p.policy.idle_limit_ms)}`;
  const hold = (max_hold_ms === null ? "no cap on holding a lease" : `a lease may be held at most ${formatDuration(max_hold_ms)}`) + idle;
  const caps = capsText(p.policy);
  const prices = p.policy.prices ? `; prices for ${Object.keys(p.policy.prices).join(", ")}` : "";
  const { trusted_authors, verification_env, verification_network, require_sandbox } = p.policy;
  const running = [
    trusted_authors === null ? "verify runs any allowed author's command" : `verify runs commands by ${trusted_authors.join(", ") || "nobody"} without --trust`,
    require_sandbox ? "only in a sandbox" : "in a sandbox where bwrap is available",
    verification_network ? "with network" : "without network",
    ...(verification_env.length ? [`passing ${verification_env.join(", ")}`] : []),
  ].join(", ");
  const { stages, done_stage } = p.policy;
  const pipeline = stages.length ? `; stages ${stages.join(" → ")}${done_stage ? `, done only from ${done_stage}` : ""}` : "";
  const pruned = p.policy.prune_after_ms === null ? "" : `; serve prunes work orders finished over ${formatDuration(p.policy.prune_after_ms)} ago, daily`;
  return `project ${p.name}: verification commands may be set by ${verification_authors}; done ${require_verification ? "needs" : "does not need"} a passing verification; ${hold}; ${caps ? `new work orders get caps ${caps}` : "no default budget"}${prices}; ${running}${pipeline}${pruned}`;
}

function eventText(e: LedgerEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case "updated": {
      const changes = d.changes as Record<string, { from: unknown; to: unknown }>;
      return Object.entries(changes)
        .map(([k, v]) => `${k}: ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`)
        .join("; ");
    }
    case "claimed":
    case "renewed":
      return `token ${String(d.token)}, until ${String(d.expires_at)}`;
    case "expired":
      return `lease of ${String(d.holder)} (token ${String(d.token)}) lapsed at ${String(d.expires_at)}; back to ${String(d.status)}${outcomeText(d)}`;
    case "released":
      return `→ ${String(d.status)}${outcomeText(d)}`;
    case "status_changed":
      return `${String(d.from)} → ${String(d.to)}${d.lease_ended ? " (lease ended)" : ""}${outcomeText(d)}${d.budget_raised ? " (budget raised)" : ""}`;
    case "spend_recorded":
      return spendText(d);
    case "note_added":
      return `${String(d.kind)} note #${String(d.note_id)}`;
    case "context_put":
      return `key ${String(d.key)}`;
    case "write_refused":
      return `refused: ${oneLine(String(d.message))}`;
    case "checkpoint":
      return `${String(d.commit).slice(0, 12)} on ${String(d.branch)} (token ${String(d.token)}): ${oneLine(String(d.message))}`;
    case "created":
      return oneLine(String((d.fields as { title?: unknown } | undefined)?.title ?? ""));
  }
}

export function history(events: readonly LedgerEvent[]): string {
  if (events.length === 0) return c.dim("no events");
  return table(events.map((e) => [c.dim(e.at), e.wo === null ? "" : `WO-${e.wo}`, e.type, e.agent, shown(eventText(e))]));
}

function contextEntry(e: PulledContext): string {
  const verdict = e.verdict === "fresh" ? c.green("fresh") : c.red(`stale: ${shown(e.stale_reasons.join("; "))}`);
  const git = e.git ? shown(` @ ${e.git.head.slice(0, 12)}${e.git.branch ? ` (${e.git.branch}${e.git.dirty ? ", dirty" : ""})` : ""}`) : "";
  const wo = e.wo === null ? "" : ` for WO-${e.wo}`;
  return `${c.bold(shown(e.key))}  ${relative(e.created_at)} by ${e.agent}${wo}${git}  ${verdict}\n${shown(e.body)}`;
}

export function contextPull(p: ContextPull): string {
  return p.entries.length ? p.entries.map(contextEntry).join("\n\n") : c.dim(`no context saved for ${p.project} yet: start fresh`);
}

export function contextHistory(list: readonly PulledContext[]): string {
  return list.length ? list.map(contextEntry).join("\n\n") : c.dim("no context");
}
