/** Claims (by id, the queue's next, or in one statement where the store compiles the rule) and renewals. */
import * as rules from "../rules.js";
import { NO_CONTEXT, briefing, linkedContext, withDependencies } from "../context.js";
import { LedgerError, isLedgerError } from "../errors.js";
import { conflicts, fileConflict } from "../file-conflicts.js";
import { OverlapChecker } from "../files.js";
import { keyedWrite, once } from "../idempotency.js";
import { isRuleResult, type RuleResult } from "../rule-data.js";
import { nearMisses } from "../names.js";
import type { Tx } from "../port.js";
import { DEFAULT_TTL_MS, inputs, type Inputs, type Parsed } from "../schemas.js";
import { passes, queueFilter, stageOf } from "../stages.js";
import { SWEEP_BATCH, loadForWrite, persist, projectNotFound, recordExpiries, requireProject } from "../steps.js";
import type { StoredWorkOrder } from "../types.js";
import { parse } from "../validate.js";
import { CLAIM, KEEPALIVE_RENEW, RENEW } from "../write-rules.js";
import type { ClaimResult, RenewAllResult, Renewed } from "./results.js";
import { loadAs, policyOf, readAs, type Service } from "./shared.js";

/** The filters of a claim --next, in words (" in stage ready with label api that fits your capabilities (code)"). */
function filterWords(q: { stage?: string | undefined; labels?: readonly string[] | undefined; can?: readonly string[] | undefined; any?: boolean | undefined }): string {
  const parts = [
    q.stage === undefined ? "" : ` in stage ${q.stage}`,
    q.labels?.length ? ` with label ${q.labels.join(" or ")}` : "",
    q.any ? "" : ` that fits your capabilities (${q.can?.length ? q.can.join(", ") : "none declared"})`,
  ];
  return parts.join("");
}

export async function claim(svc: Service, input: Inputs["claim"]): Promise<ClaimResult> {
  const c = parse(inputs.claim, input);
  const atOnce = svc.store.applyRule ? await claimAtOnce(svc, c) : null;
  if (atOnce) return atOnce;
  // A retried claim answers its first result only while that lease lives: a lease that ended since is LEASE_LOST, not a success.
  const still = async (tx: Tx, recorded: ClaimResult | RuleResult<StoredWorkOrder>): Promise<ClaimResult> => {
    // Recorded by the one-statement claim: its answer, worded from the state it left, as it was the first time.
    const first = isRuleResult(recorded) ? { ...rules.toPublic(recorded.after), file_conflicts: [], context: await briefing(tx, c.project, recorded.after, c.git) } : recorded;
    const wo = await readAs(tx, c.project, first.id, c.agent);
    try {
      rules.holding(wo, c.agent, tx.now(), first.lease?.token, true);
    } catch (e) {
      // Resending the same key only ever answers that first claim (tenth trials: the retry kept failing).
      if (!isLedgerError(e) || e.code !== "LEASE_LOST" || rules.isFinished(wo.status)) throw e;
      const hint = `${e.hintTemplate ?? ""}; to claim it again, send a new {{idempotency_key}} or none: this one answers only its first claim`;
      throw new LedgerError(e.code, e.message, { hint, ...(e.details ? { details: e.details } : {}) });
    }
    return { ...first, ...rules.toPublic(wo) };
  };
  return svc.write((tx) =>
    once(
      tx,
      "claim",
      c,
      () => claimIn(tx, c, c.ttl ?? DEFAULT_TTL_MS),
      (first: ClaimResult | RuleResult<StoredWorkOrder>) => still(tx, first),
    ),
  );
}

/**
 * The claim as one statement, where the store compiles the rule
 * (write-rules.ts CLAIM): one round trip on PostgreSQL. Whatever the rule
 * leaves to the full sequence (a retry key, an admin's act, a filter given
 * with an id, an expiry to record, files to check) or refuses, the full
 * sequence does again, and words the refusal: null.
 */
async function claimAtOnce(svc: Service, c: Parsed["claim"]): Promise<ClaimResult | null> {
  const { project, agent, role, id, git } = c;
  if (role === "admin" || (id === undefined ? c.any : c.stage !== undefined || c.labels?.length)) return null;
  const filter = queueFilter(c);
  const args = rules.claimArgs(agent, c.ttl ?? DEFAULT_TTL_MS, { asked: c.max_hold, role }, id === undefined ? filter.can : c.any ? undefined : (c.can ?? []));
  const out = await svc.store.applyRule!(CLAIM, id === undefined ? { project, next: filter } : { project, id }, args, keyedWrite("claim", c));
  if (out.verdict !== "applied") return null;
  if (out.event) svc.opts.onEvents?.([out.event]);
  const wo = out.after!;
  const context = out.hasContext ? await svc.store.read((tx) => briefing(tx, project, wo, git)) : NO_CONTEXT;
  return { ...rules.toPublic(wo), file_conflicts: [], context };
}

async function claimIn(tx: Tx, c: Parsed["claim"], ttlMs: number): Promise<ClaimResult> {
  const { project, agent, role, id, exclusive_files, max_hold, git } = c;
  if (id === undefined) return claimNext(tx, c, ttlMs);
  // Sent with the claim's first statement (one round trip on PostgreSQL): the project's default hold cap.
  const defaults = tx.getProject(project);
  defaults.catch(() => undefined); // awaited below; a failure surfaces there (or the claim's own comes first)
  const wo = await loadForWrite(tx, project, id);
  // Read once the WO is: its context is judged against its branch too (core/freshness.ts).
  const context = linkedContext(tx, project, id, git, null, wo.branch);
  context.catch(() => undefined);
  const now = tx.now(); // read after the row is locked: the clock may have moved while we waited
  // Filters are for claim --next; given with an id they must hold (issue 23, MCP trial: stage=build took a WO in spec).
  const asked = { ...queueFilter(c), can: undefined };
  if (!passes(wo, asked))
    throw new LedgerError("VALIDATION", `${rules.label(id)} is not what was asked for: it is in stage ${wo.stage ?? "(none)"} with labels ${wo.labels.join(", ") || "(none)"}`, {
      hint: "leave out the stage and labels to claim it by id, or {{op:claim}} {{next=true}} with them",
      details: { issues: [{ field: c.stage !== undefined ? "stage" : "labels", message: "the work order does not match" }], stage: wo.stage, labels: wo.labels },
    });
  const hold = { asked: max_hold, projectDefault: (await defaults)?.policy.max_hold_ms ?? null, role };
  const change = rules.claim(wo, agent, now, ttlMs, await tx.notDoneOf(project, wo.depends_on), hold, c.any ? undefined : (c.can ?? []));
  // Leases are only read (and on PostgreSQL, the project's lease lock only taken) when files can clash.
  const file_conflicts = wo.files.length ? conflicts(wo, await tx.liveLeases(project, now), new OverlapChecker()) : [];
  if (exclusive_files && file_conflicts.length) throw fileConflict(wo, file_conflicts);
  await persist(tx, change);
  return { ...rules.toPublic(change.next), file_conflicts, context: await withDependencies(tx, project, await context, wo.depends_on, git) };
}

async function claimNext(tx: Tx, c: Parsed["claim"], ttlMs: number): Promise<ClaimResult> {
  const { project, agent, role, max_hold: maxHold, git } = c;
  if (c.any)
    throw new LedgerError("VALIDATION", "any: only with an id: say which work order you know you can do (claim --next takes only work that fits)", {
      details: { issues: [{ field: "any", message: "needs an id" }] },
    });
  const filter = queueFilter(c);
  // One read (one statement on PostgreSQL). The first candidate is only good if
  // no lease had lapsed: an expiry returns a WO to the queue, maybe ahead of it,
  // so then the probe starts again.
  const { exists, lapsed, first, hasContext, maxHoldMs } = await tx.claimProbe(project, SWEEP_BATCH, filter);
  if (!exists) throw projectNotFound(project, nearMisses(project, await tx.projectNames()));
  if (lapsed.length) await recordExpiries(tx, project, lapsed);
  let live: StoredWorkOrder[] | undefined;
  const checker = new OverlapChecker();
  const skipped: number[] = [];
  // One candidate at a time: on PostgreSQL each probe locks (SKIP LOCKED) only the row it returns,
  // so concurrent workers each get a different WO instead of skipping each other's pages.
  for (let offset = 0; ; offset++) {
    const w = offset === 0 && !lapsed.length ? first : (await tx.claimable(project, 1, offset, filter))[0];
    if (!w) break;
    if (w.files.length) {
      live ??= await tx.liveLeases(project, tx.now());
      if (conflicts(w, live, checker).length) {
        skipped.push(w.id); // claim --next never takes a WO whose files someone holds
        continue;
      }
    }
    const change = rules.claim(w, agent, tx.now(), ttlMs, [], { asked: maxHold, projectDefault: maxHoldMs, role }, filter.can);
    const context = hasContext ? await briefing(tx, project, w, git) : NO_CONTEXT;
    await persist(tx, change);
    return { ...rules.toPublic(change.next), file_conflicts: [], context };
  }
  const wanted = filterWords(c);
  if (skipped.length) {
    const some = skipped.slice(0, 10).map(rules.label).join(", ");
    throw new LedgerError(
      "NOTHING_TO_CLAIM",
      `no unclaimed work order in project ${project}${wanted} is free to take: ${some} ${skipped.length === 1 ? "touches" : "touch"} files that held work orders hold (their file_conflicts say which, and whose)`,
      {
        hint: "wait for those files to be released (if you hold some, finish or release that work first), or {{op:claim}} one of them by id to accept the overlap",
        details: { project, touching_held_files: skipped },
      },
    );
  }
  if (c.stage !== undefined) stageOf(await policyOf(tx, project), project, c.stage);
  // An agent that forgot to declare what it can do should learn that work is waiting for it.
  const [unfit] = filter.can ? await tx.claimable(project, 1, 0, { ...filter, can: undefined }) : [];
  throw new LedgerError("NOTHING_TO_CLAIM", `no unclaimed work order in project ${project}${wanted} is free to take`, {
    hint: unfit
      ? `${rules.label(unfit.id)} waits for an agent that can ${unfit.requires.join(", ")}: declare the capabilities you have (WORKLEDGER_CAN), or try again later`
      : "all open work is claimed or waiting on dependencies; try again later or {{op:create}} work",
    details: { project, ...(unfit ? { needs_capabilities: { id: unfit.id, requires: unfit.requires } } : {}) },
  });
}

export async function renew(svc: Service, input: Inputs["renew"]): Promise<Renewed> {
  const r = parse(inputs.renew, input);
  const { project, agent, id, ttl, lease_token, keepalive, idle_ms } = r;
  const atOnce = svc.store.applyRule ? await renewAtOnce(svc, r) : null;
  if (atOnce) return atOnce;
  // Recorded by the one-statement renewal: the lease as it left it.
  const replayed = async (first: Renewed | RuleResult<StoredWorkOrder>) => (isRuleResult(first) ? rules.toPublic(first.after) : first);
  return svc.write((tx) =>
    once(
      tx,
      "renew",
      r,
      async (): Promise<Renewed> => {
        const wo = await loadAs(tx, project, id, agent);
        // A keep-alive says how long its agent has been idle; past the project's limit it ends the lease instead.
        const limit = keepalive && idle_ms !== undefined ? (await policyOf(tx, project)).idle_limit_ms : null;
        if (limit !== null && idle_ms! > limit) {
          const ended = rules.endIdle(wo, agent, tx.now(), lease_token, idle_ms!, limit);
          await persist(tx, ended);
          return { ...rules.toPublic(ended.next), ended: { reason: "idle", idle_ms: idle_ms!, idle_limit_ms: limit } };
        }
        const change = rules.renew(wo, agent, tx.now(), ttl, lease_token, keepalive);
        await persist(tx, change);
        return { ...rules.toPublic(change.next), ...(change.warnings ? { warnings: change.warnings } : {}) };
      },
      replayed,
    ),
  );
}

/**
 * The holder's renewal as one statement where the store compiles rules
 * (write-rules.ts RENEW, KEEPALIVE_RENEW): one round trip on PostgreSQL, a
 * keep-alive's every third of a minute included. null: the full sequence's
 * (see claimAtOnce).
 */
async function renewAtOnce(svc: Service, r: Parsed["renew"]): Promise<Renewed | null> {
  const out = await svc.store.applyRule!(
    r.keepalive ? KEEPALIVE_RENEW : RENEW,
    { project: r.project, id: r.id },
    rules.renewArgs(r.agent, r.ttl, r.lease_token, r.idle_ms),
    keyedWrite("renew", r),
  );
  if (out.verdict !== "applied") return null;
  if (out.event) svc.opts.onEvents?.([out.event]);
  return rules.toPublic(out.after!);
}

/**
 * Renews every live lease the caller holds in the project, each by its own
 * length unless a TTL is given; a lease that cannot be renewed (its hold
 * cap) is reported, not fatal.
 */
export async function renewAll(svc: Service, input: Inputs["renewAll"]): Promise<RenewAllResult> {
  const { project, agent, ttl, keepalive } = parse(inputs.renewAll, input);
  return svc.write(async (tx) => {
    await requireProject(tx, project);
    const out: RenewAllResult = { renewed: [], refused: [] };
    for (const held of (await tx.liveLeases(project, tx.now())).filter((w) => w.lease?.agent === agent)) {
      try {
        const change = rules.renew(await loadForWrite(tx, project, held.id), agent, tx.now(), ttl, undefined, keepalive);
        await persist(tx, change);
        out.renewed.push(rules.toPublic(change.next));
      } catch (e) {
        if (!isLedgerError(e)) throw e;
        out.refused.push({ id: held.id, error: e.toJSON() });
      }
    }
    return out;
  });
}
