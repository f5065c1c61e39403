/**
 * Rules as data (issue 27): the core's interpretation of a write rule and the
 * PostgreSQL adapter's compilation of it into one statement must agree on
 * every state. Random work orders (statuses, live and lapsed leases, fences,
 * budgets and spend, capabilities, dependencies, files, hold caps) go through
 * both; the verdict (applied, deferred, or the refusal's code), the new
 * record, its event and its attempt must be the same.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Store } from "../../src/core/port.ts";
import { decide, effect, type RuleEnv, type Verdict } from "../../src/core/rule-data.ts";
import * as rules from "../../src/core/rules.ts";
import type { ProjectPolicy, StoredWorkOrder } from "../../src/core/types.ts";
import { DEFAULT_POLICY } from "../../src/core/verification.ts";
import { CLAIM, FINISH_BY_RELEASE, FINISH_BY_UPDATE, KEEPALIVE_RENEW, RENEW } from "../../src/core/write-rules.ts";
import { LedgerError } from "../../src/core/errors.ts";
import { NO_CONTEXT } from "../../src/core/context.ts";
import { Ledger } from "../../src/core/ledger.ts";
import { openPostgresStore } from "../../src/storage/postgres/store.ts";
import { dropSchema, PG_URL, requirePostgres, uniqueSchema } from "../conformance/backends.ts";

const available = await requirePostgres("rules as data");

const NOW = "2026-12-05T12:00:00.000Z";
const at = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();

/** A small seeded generator, so a failure names a case that can be run again. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick, chance: (p: number) => next() < p, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}
type Rnd = ReturnType<typeof random>;

/** Projects and their settings: a hold cap, verification required, a done stage. */
const PROJECTS = {
  free: { ...DEFAULT_POLICY },
  capped: { ...DEFAULT_POLICY, max_hold_ms: 90_000 },
  strict: { ...DEFAULT_POLICY, require_verification: true },
  staged: { ...DEFAULT_POLICY, stages: ["build", "ready"], done_stage: "ready" },
} satisfies Record<string, ProjectPolicy>;
type ProjectName = keyof typeof PROJECTS;
const policyOf = (p: ProjectName) => ({ max_hold_ms: PROJECTS[p].max_hold_ms, done_stage: PROJECTS[p].done_stage, require_verification: PROJECTS[p].require_verification });
/** WO 1 is done and WO 2 open in each project: dependencies on them are met or pending. */
const DEPS = [1, 2];

function randomWo(r: Rnd, project: string, id: number): StoredWorkOrder {
  const base = rules.create(project, id, { title: `wo ${id}` }, "planner", at(-3_600_000)).wo;
  const status = r.pick(["open", "open", "blocked", "claimed", "claimed", "done", "cancelled"] as const);
  const verification = r.pick(["", " \t", "npm test", "node -e 'process.exit(0)'"]);
  const fence = status === "claimed" ? r.int(1, 5) : r.int(0, 5);
  const expires = at(r.pick([-60_000, -1, 0, 1, 30_000]));
  const spend = { usd: r.pick([0, 0.5, 0.999999, 1, 1.0000004, 2]), tokens_in: r.int(0, 600), tokens_out: r.int(0, 600), unpriced: 0 };
  return {
    ...base,
    status,
    prior_status: status === "claimed" ? r.pick(["open", "blocked"] as const) : null,
    lease:
      status === "claimed"
        ? {
            agent: r.pick(["a", "b"]),
            token: fence,
            claimed_at: at(-120_000),
            expires_at: expires,
            renewed_at: r.chance(0.5) ? at(-60_000) : null,
            hold_until: r.chance(0.3) ? at(600_000) : null,
          }
        : null,
    fence,
    revision: r.int(1, 9),
    verification,
    verification_by: verification ? "planner" : null,
    pinned_verification: r.pick([null, "old command", verification, verification]),
    last_verification: r.chance(0.25)
      ? null
      : {
          passed: r.chance(0.6),
          agent: "a",
          at: at(-30_000),
          token: r.pick([null, fence, fence, fence - 1]),
          ...(r.chance(0.8) ? { command: r.pick([verification, verification, "old command"]) } : {}),
          ...(r.chance(0.15) ? { failed_in: "/elsewhere" } : {}),
          ...(r.chance(0.1) ? { dirty: true } : {}),
        },
    ended_leases: r.chance(0.5)
      ? [
          { agent: "a", token: 1, at: at(-500_000), how: "expired", status: "open" },
          { agent: "c", token: 2, at: at(-400_000), how: "ended", status: "blocked", via: "release" },
        ]
      : [],
    requires: r.pick([[], ["code"], ["code", "docs"]]),
    files: r.chance(0.15) ? ["src/a.ts"] : [],
    depends_on: r.pick([[], [1], [2], [1, 2]]),
    max_attempts: r.pick([null, null, 1, 3, 6]),
    max_usd: r.pick([null, null, 1, 2.5]),
    max_tokens: r.pick([null, null, 500, 2000]),
    spend: r.chance(0.3) ? { ...spend, outside_usd: r.pick([0, 0.5]), outside_tokens: r.int(0, 200) } : spend,
  };
}

function randomArgs(r: Rnd): RuleEnv["args"] {
  return {
    agent: r.pick(["a", "b", "c"]),
    ttl_ms: r.pick([1000, 60_000, 1_800_000]),
    max_hold_ms: r.pick([null, 30_000, 120_000]),
    admin: r.chance(0.3),
    can: r.pick([null, [], ["code"], ["code", "docs"]]),
  };
}

/** A verdict as the store names it. */
const outcomeOf = (v: Verdict) => (v.kind === "apply" ? "applied" : v.kind === "defer" ? "defer" : v.code);

/** The states must reach every outcome, or the test proves less than it says. */
function assertReached(seen: Map<string, number>, outcomes: readonly string[]): void {
  for (const outcome of outcomes) assert.ok((seen.get(outcome) ?? 0) > 0, `no case ended ${outcome}: ${JSON.stringify([...seen])}`);
}

/** The store, counting the writes it applied in one statement. */
function counting(store: Store): { counted: Store; applied: () => number } {
  let n = 0;
  const apply = store.applyRule!.bind(store);
  const counted: Store = Object.assign(Object.create(store) as Store, {
    applyRule: async (...a: Parameters<typeof apply>) => {
      const out = await apply(...a);
      if (out.verdict === "applied") n++;
      return out;
    },
  });
  return { counted, applied: () => n };
}

describe(
  "rules as data: the core's interpretation and PostgreSQL's one statement agree (issue 27)",
  { skip: available ? false : "PostgreSQL is unreachable (see the warning above)" },
  () => {
    let schema: string;
    let store: Store;

    before(async () => {
      schema = uniqueSchema("wl_rules");
      store = await openPostgresStore({ connectionString: PG_URL, schema, clock: () => Date.parse(NOW), poolSize: 4 });
      await store.write(async (tx) => {
        for (const [name, policy] of Object.entries(PROJECTS)) {
          await tx.insertProject(name, at(-7_200_000));
          await tx.setProjectPolicy(name, policy);
          await tx.allocateIds(name, 1000);
          for (const id of DEPS) await tx.insertWorkOrder({ ...rules.create(name, id, { title: `dep ${id}` }, "planner", at(-7_000_000)).wo, status: id === 1 ? "done" : "open" });
        }
      });
    });
    after(async () => {
      await store?.close();
      if (schema) await dropSchema(schema);
    });

    it("claim by id: 400 random states give the same verdict, record, event and attempt", async () => {
      const seed = Number(process.env.RULES_SEED ?? 27);
      const r = random(seed);
      const seen = new Map<string, number>();
      for (let n = 0; n < 400; n++) {
        const project = r.pick(Object.keys(PROJECTS)) as ProjectName;
        const wo = randomWo(r, project, 100 + n);
        const args = randomArgs(r);
        await store.write((tx) => tx.insertWorkOrder(wo));
        const env: RuleEnv = {
          args,
          now: NOW,
          policy: { ...policyOf(project), done_stage: null, require_verification: false },
          depsPending: wo.depends_on.includes(2),
          lastCheckpointAt: null,
        };
        const verdict = decide(CLAIM, wo, env);
        const expected = outcomeOf(verdict);
        const out = await store.applyRule!(CLAIM, { project, id: wo.id }, args);
        const where = `seed ${seed}, case ${n}: ${JSON.stringify({ wo, args })}`;
        assert.equal(out.verdict, expected, where);
        seen.set(expected, (seen.get(expected) ?? 0) + 1);
        if (verdict.kind !== "apply") {
          assert.equal(out.after, null, where);
          continue;
        }
        const { next, data } = effect(CLAIM, wo, env);
        assert.deepEqual(out.after, next, where);
        assert.deepEqual(out.event, { project, wo: wo.id, type: "claimed", agent: args.agent, revision: next.revision, at: NOW, data }, where);
        // What the core's own claim makes of the same state, through rules.claim.
        const core = rules.claim(
          wo,
          String(args.agent),
          NOW,
          Number(args.ttl_ms),
          env.depsPending ? [2] : [],
          { asked: (args.max_hold_ms as number | null) ?? undefined, projectDefault: PROJECTS[project].max_hold_ms, role: args.admin ? "admin" : "agent" },
          (args.can as string[] | null) ?? undefined,
        );
        assert.deepEqual(core.next, next, where);
        const attempts = await store.read((tx) => tx.listAttempts({ project, wo: wo.id, limit: 10 }));
        assert.deepEqual(attempts, [core.attempt], where);
      }
      assertReached(seen, ["applied", "defer", "LEASE_HELD", "ILLEGAL_TRANSITION", "DEPENDENCY_PENDING", "CAPABILITY_MISSING", "BUDGET_EXHAUSTED"]);
    });

    it("finish by release and by update: 400 random states give the same verdict, record, event and attempt as the core's release and update", async () => {
      const seed = Number(process.env.RULES_SEED ?? 23);
      const r = random(seed);
      // Where the pass ran and where the caller stands, drawn apart so the states above stay those of the seed.
      const rh = random(seed + 1);
      const seen = new Map<string, number>();
      for (let n = 0; n < 400; n++) {
        const project = r.pick(Object.keys(PROJECTS)) as ProjectName;
        const wo = randomWo(r, project, 1000 + n);
        if (wo.last_verification && rh.chance(0.5))
          wo.last_verification = { ...wo.last_verification, head: rh.pick(["a".repeat(40), "b".repeat(40)]), branch: rh.pick([wo.branch, "main"]) };
        const holder = wo.lease?.agent;
        const agent = holder !== undefined && r.chance(0.8) ? holder : r.pick(["a", "b"]);
        const token = r.pick([null, null, wo.lease?.token ?? 1, (wo.lease?.token ?? 1) + 1]);
        const via = r.pick(["release", "update"] as const);
        const rule = via === "release" ? FINISH_BY_RELEASE : FINISH_BY_UPDATE;
        // Sometimes a checkpoint, before or after the last verification (at -30 s): a pass from before it does not count.
        const checkpointAt = r.chance(0.3) ? at(r.pick([-60_000, -10_000])) : null;
        const checkpoint = checkpointAt === null ? undefined : { commit: "c".repeat(40), at: checkpointAt };
        await store.write(async (tx) => {
          await tx.insertWorkOrder(wo);
          if (checkpoint)
            await tx.appendEvents([
              {
                project,
                wo: wo.id,
                type: "checkpoint",
                agent: "a",
                revision: wo.revision,
                at: checkpoint.at,
                data: { commit: checkpoint.commit, token: 1, message: "m", branch: wo.branch },
              },
            ]);
        });
        const pending = wo.depends_on.filter((d) => d === 2);
        // Sometimes the caller stands in a work tree: on the WO's branch or another, at one commit or another.
        const here = rh.chance(0.5) ? { head: rh.pick(["a".repeat(40), "b".repeat(40)]), branch: rh.pick([wo.branch, "main", null]), dirty: false } : undefined;
        const args = { agent, token, here_head: here?.head ?? null };
        const env: RuleEnv = { args, now: NOW, policy: policyOf(project), depsPending: pending.length > 0, lastCheckpointAt: checkpointAt };
        const verdict = decide(rule, wo, env);
        const expected = outcomeOf(verdict);
        const out = await store.applyRule!(rule, { project, id: wo.id }, env.args);
        const where = `seed ${seed}, case ${n} (${via}): ${JSON.stringify({ wo, agent, token })}`;
        assert.equal(out.verdict, expected, where);
        seen.set(expected, (seen.get(expected) ?? 0) + 1);
        if (verdict.kind === "defer") continue;
        // The core's own release and update on the same state, as the ledger calls them.
        const finish = { policy: PROJECTS[project], role: "agent" as const, pending, lastCheckpoint: checkpoint, ...(here ? { here } : {}) };
        const core = () =>
          via === "release"
            ? rules.release(wo, agent, NOW, "done", token ?? undefined, finish)
            : rules.update(wo, agent, NOW, { status: "done", token: token ?? undefined, finish });
        if (verdict.kind === "refuse") {
          assert.throws(core, (e) => e instanceof LedgerError && e.code === verdict.code, where);
          assert.equal(out.after, null, where);
          continue;
        }
        const change = core();
        const { next, data } = effect(rule, wo, env);
        assert.deepEqual(next, change.next, where);
        assert.deepEqual(out.after, next, where);
        assert.deepEqual(out.event, { ...change.events[0], data }, where);
        assert.deepEqual(change.events[0]!.data, data, where);
        const attempts = await store.read((tx) => tx.listAttempts({ project, wo: wo.id, limit: 10 }));
        assert.deepEqual(attempts, [change.attempt], where);
      }
      assertReached(seen, ["applied", "defer", "DEPENDENCY_PENDING", "VERIFICATION_REQUIRED"]);
    });

    it("renewal, by hand and by keep-alive: 400 random states give the same verdict, record and event as the core's renew", async () => {
      const seed = Number(process.env.RULES_SEED ?? 31);
      const r = random(seed);
      // Hold caps, TTLs and idleness drawn apart, so the states above stay those of the seed.
      const rh = random(seed + 1);
      const seen = new Map<string, number>();
      for (let n = 0; n < 400; n++) {
        const project = r.pick(Object.keys(PROJECTS)) as ProjectName;
        const wo = randomWo(r, project, 2000 + n);
        if (wo.lease && rh.chance(0.4)) wo.lease = { ...wo.lease, hold_until: rh.pick([wo.lease.expires_at, at(10_000), at(3_600_000)]) };
        const holder = wo.lease?.agent;
        const agent = holder !== undefined && r.chance(0.8) ? holder : r.pick(["a", "b"]);
        const token = r.pick([undefined, undefined, wo.lease?.token ?? 1, (wo.lease?.token ?? 1) + 1]);
        const keepalive = rh.chance(0.4);
        const ttl = rh.pick([undefined, 1000, 60_000, 1_800_000]);
        const idle = keepalive ? rh.pick([undefined, 1000, 30 * 60_000]) : undefined;
        const rule = keepalive ? KEEPALIVE_RENEW : RENEW;
        await store.write((tx) => tx.insertWorkOrder(wo));
        const args = rules.renewArgs(agent, ttl, token, idle);
        const env: RuleEnv = { args, now: NOW, policy: { ...policyOf(project), idle_limit_ms: PROJECTS[project].idle_limit_ms }, depsPending: false, lastCheckpointAt: null };
        const verdict = decide(rule, wo, env);
        const expected = outcomeOf(verdict);
        const out = await store.applyRule!(rule, { project, id: wo.id }, args);
        const where = `seed ${seed}, case ${n} (${rule.name}): ${JSON.stringify({ wo, args })}`;
        assert.equal(out.verdict, expected, where);
        seen.set(expected, (seen.get(expected) ?? 0) + 1);
        if (verdict.kind === "defer") continue;
        const core = () => rules.renew(wo, agent, NOW, ttl, token, keepalive);
        if (verdict.kind === "refuse") {
          assert.throws(core, (e) => e instanceof LedgerError && e.code === verdict.code, where);
          assert.equal(out.after, null, where);
          continue;
        }
        const change = core();
        const { next, data } = effect(rule, wo, env);
        assert.deepEqual(next, change.next, where);
        assert.deepEqual(out.after, next, where);
        if (keepalive) {
          assert.deepEqual([out.event, change.events], [null, []], where);
        } else {
          assert.deepEqual(out.event, { ...change.events[0], data }, where);
          assert.deepEqual(change.events[0]!.data, data, where);
        }
      }
      assertReached(seen, ["applied", "defer", "BUDGET_EXHAUSTED", "MAX_HOLD_REACHED"]);
    });

    it("the ledger claims and finishes in one statement when it can, and leaves the rest to the full sequence", async () => {
      const { counted, applied } = counting(store);
      const events: string[] = [];
      const ledger = new Ledger(counted, { onEvents: (es) => events.push(...es.map((e) => `${e.type} ${e.wo}`)) });
      const [plain, withFiles] = await ledger.create({
        project: "fast",
        agent: "planner",
        new_project: true,
        items: [
          { title: "plain", priority: "P0" },
          { title: "touches files", files: ["a.ts"] },
        ],
      });
      events.length = 0;
      const first = await ledger.claim({ project: "fast", agent: "w1", next: true, ttl: "1m" });
      assert.equal(first.id, plain!.id);
      assert.equal(first.lease?.agent, "w1");
      assert.deepEqual(first.context, NO_CONTEXT);
      assert.equal(applied(), 1, "claim --next of a plain WO is one statement");
      assert.deepEqual(events, [`claimed ${plain!.id}`], "its event is reported to the server's followers");
      const second = await ledger.claim({ project: "fast", agent: "w2", next: true, ttl: "1m" });
      assert.equal(second.id, withFiles!.id);
      assert.equal(applied(), 1, "a WO with files goes through the full sequence (file conflicts)");
      await assert.rejects(ledger.claim({ project: "fast", agent: "w3", id: plain!.id }), { code: "LEASE_HELD" });
      await assert.rejects(ledger.claim({ project: "fast", agent: "w3", next: true }), { code: "NOTHING_TO_CLAIM" });
      assert.equal(applied(), 1);
      // The holder's done is one statement too, by update or by release; unverified, it is told why in the core's words.
      const done = await ledger.update({ project: "fast", agent: "w1", id: first.id, status: "done", lease_token: first.lease!.token });
      assert.equal(done.status, "done");
      assert.deepEqual(done.warnings, [`WO-${first.id} is done without a passing verification: it has no verification command`]);
      assert.equal(applied(), 2);
      await assert.rejects(ledger.release({ project: "fast", agent: "w1", id: first.id, status: "done" }), { code: "LEASE_LOST" });
      assert.equal(applied(), 2, "a caller that is not the holder goes through the full sequence, which words the refusal");
      assert.equal((await ledger.release({ project: "fast", agent: "w2", id: second.id, status: "done" })).status, "done");
      assert.equal(applied(), 3);
      assert.deepEqual(events.slice(-2), [`status_changed ${first.id}`, `released ${second.id}`]);
    });

    it("the ledger renews in one statement, a keep-alive's without an event; a renewal cut short by the hold cap, or a stranger's, goes through the full sequence", async () => {
      const { counted, applied } = counting(store);
      const events: string[] = [];
      const ledger = new Ledger(counted, { onEvents: (es) => events.push(...es.map((e) => `${e.type} ${e.wo}`)) });
      const [wo] = await ledger.create({ project: "renewing", agent: "planner", new_project: true, items: [{ title: "held" }] });
      const held = await ledger.claim({ project: "renewing", agent: "w1", id: wo!.id, ttl: "1m", max_hold: "1h" });
      assert.equal(applied(), 1);
      const renewed = await ledger.renew({ project: "renewing", agent: "w1", id: wo!.id, ttl: "2m", lease_token: held.lease!.token });
      assert.equal(applied(), 2, "a renewal is one statement");
      assert.equal(Date.parse(renewed.lease!.expires_at) - Date.parse(renewed.lease!.renewed_at!), 120_000);
      assert.equal(renewed.revision, held.revision + 1);
      const kept = await ledger.renew({ project: "renewing", agent: "w1", id: wo!.id, keepalive: true, idle_ms: 1000 });
      assert.equal(applied(), 3, "a keep-alive's renewal too");
      assert.equal(kept.revision, renewed.revision, "a keep-alive's renewal is no revision");
      assert.deepEqual(events, [`created ${wo!.id}`, `claimed ${wo!.id}`, `renewed ${wo!.id}`]);
      const cut = await ledger.renew({ project: "renewing", agent: "w1", id: wo!.id, ttl: "2h" });
      assert.equal(applied(), 3, "cut short by the hold cap: the full sequence warns");
      assert.match(cut.warnings?.[0] ?? "", /is held until .* at most \(max_hold\)/);
      await assert.rejects(ledger.renew({ project: "renewing", agent: "w2", id: wo!.id }), { code: "LEASE_HELD" });
      assert.equal(applied(), 3);
    });

    it("keyed writes too: one statement records the key's first result, a retry answers it exactly, a different request is refused, and concurrent retries claim once", async () => {
      const { counted, applied } = counting(store);
      const ledger = new Ledger(counted);
      await ledger.create({ project: "keyed", agent: "planner", new_project: true, items: Array.from({ length: 4 }, (_, i) => ({ title: `k${i}` })) });
      const first = await ledger.claim({ project: "keyed", agent: "w1", next: true, idempotency_key: "c1" });
      assert.equal(applied(), 1, "a keyed claim is one statement too (the remote client keys every write)");
      assert.deepEqual(await ledger.claim({ project: "keyed", agent: "w1", next: true, idempotency_key: "c1" }), first);
      await assert.rejects(ledger.claim({ project: "keyed", agent: "w1", next: true, ttl: "2m", idempotency_key: "c1" }), { code: "IDEMPOTENCY_MISMATCH" });
      const done = await ledger.update({ project: "keyed", agent: "w1", id: first.id, status: "done", idempotency_key: "d1" });
      assert.equal(applied(), 2);
      assert.match(done.warnings?.[0] ?? "", /done without a passing verification/);
      assert.deepEqual(
        await ledger.update({ project: "keyed", agent: "w1", id: first.id, status: "done", idempotency_key: "d1" }),
        done,
        "the retry answers the first result, warning included",
      );
      // Retries sent together (a client that timed out and resent): one WO claimed, both told the same.
      const [a, b] = await Promise.all([0, 1].map(() => ledger.claim({ project: "keyed", agent: "w2", next: true, idempotency_key: "c2" })));
      assert.equal(a!.id, b!.id);
      assert.equal((await ledger.list({ project: "keyed", status: "claimed" })).length, 1);
    });
  },
);
