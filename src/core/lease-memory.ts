/**
 * Tokens travel by themselves (DESIGN.md §9). An agent that never passes
 * --lease-token is still fenced by its token: a door wraps its ledger so
 * that every claim's token is remembered (per ledger, agent, project and WO:
 * the door's memory decides where) and attached to each later holder write
 * of that WO that does not pass one itself. A lease the caller ended is
 * forgotten; one the ledger calls lost is kept, marked lost, so the caller's
 * later writes keep failing until it claims again.
 *
 * Which operations take or use a token is the table's `lease` mark; the
 * memory is the door's (a map for an MCP session, files for the CLI).
 */
import type { LedgerApi } from "./api.js";
import { LedgerError, isLedgerError } from "./errors.js";
import { OPERATIONS, type Operation } from "./operations.js";
import { leaseLength } from "./rules.js";
import { woId, type Inputs } from "./schemas.js";
import type { RenewAllResult } from "./service/results.js";
import type { Lease, WorkOrder } from "./types.js";

export interface RememberedLease {
  project: string;
  id: number;
  token: number;
  /** The lease's length (from its claim or last renewal), which keep-alive renews by. */
  length_ms: number;
  /** The ledger said this lease is gone: its token is still sent (and refused) until the caller claims again. */
  lost?: boolean;
  /** `renew` has said it is lost once: the next one forgets it (the WO is someone else's work now). */
  told?: true;
  /** The keep-alive session that took it (the pid `keepalive --pid` watches): only that session renews it. */
  session?: number;
  /** Taken over from a dead session of the same agent: renewed at once, whatever is left of it. */
  adopted?: true;
}

export interface LeaseMemory {
  recall(project: string, id: number): RememberedLease | undefined;
  remember(lease: RememberedLease): void;
  forget(project: string, id: number): void;
  /** Every lease remembered (what keep-alive renews). */
  all(): RememberedLease[];
}

/** A memory for one process (an MCP session). */
export function mapLeaseMemory(): LeaseMemory {
  const leases = new Map<string, RememberedLease>();
  const key = (project: string, id: number) => `${project}\0${id}`;
  return {
    recall: (project, id) => leases.get(key(project, id)),
    remember: (l) => void leases.set(key(l.project, l.id), l),
    forget: (project, id) => void leases.delete(key(project, id)),
    all: () => [...leases.values()],
  };
}

const BY_NAME = new Map<string | symbol, Operation>(OPERATIONS.filter((o) => o.lease).map((o) => [o.name, o]));
type Input = Record<string, unknown> & { project?: unknown; id?: unknown; lease_token?: unknown };

/** The WO a result is about, when it says (a work order, or verify's `work_order`). */
function workOrderOf(result: unknown): WorkOrder | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const r = result as Partial<WorkOrder> & { work_order?: WorkOrder };
  if (r.work_order) return r.work_order;
  return "lease" in r && typeof r.id === "number" ? (r as WorkOrder) : undefined;
}

/** Remembers what a result says of the caller's lease: its token while it lives, nothing once it ended. */
function learn(memory: LeaseMemory, wo: WorkOrder | undefined, agent: string | undefined): void {
  if (!wo) return;
  const lease = wo.lease;
  if (lease && (agent === undefined || lease.agent === agent)) memory.remember({ project: wo.project, id: wo.id, token: lease.token, length_ms: leaseLength(lease) });
  else memory.forget(wo.project, wo.id);
}

/**
 * A claim of a WO the caller already holds (a retry, or a new session under
 * the same name after the old one died) answers LEASE_HELD with the lease:
 * remembered, so the session's later writes carry its token and its
 * keep-alive renews it (tenth MCP trial: told it held the lease, the new
 * session let it lapse while it worked).
 */
function adoptOwn(memory: LeaseMemory, e: unknown): unknown {
  if (!isLedgerError(e) || e.code !== "LEASE_HELD" || e.details?.yours !== true) return e;
  const { project, id, lease } = e.details as { project: string; id: number; lease: Lease };
  // This memory's own lease on it ended and another process under the name claimed it again: that one works on it, and
  // this one must not take it over (twenty-first MCP trial: a fenced session adopted a live session's lease and released it).
  const before = memory.recall(project, id);
  if (before !== undefined && before.token < lease.token)
    return new LedgerError("LEASE_HELD", `${e.message}, claimed again by another session under your name after your lease ${before.token} ended`, {
      hint: "leave it to that session (its worktree, its lease), and pick other work ({{op:findUnclaimed}})",
      details: { ...e.details, yours: false, superseded: before.token },
    });
  memory.remember({ project, id, token: lease.token, length_ms: leaseLength(lease), adopted: true });
  return e;
}

/**
 * Renewing every lease also renews, or reports refused, each lease this
 * caller remembers in the project that the ledger no longer counts as its own
 * (sixteenth trials: a lapsed lease left `renew` answering "nothing to renew",
 * exit 0, and the agent worked on).
 */
async function renewAllRemembered(ledger: LedgerApi, memory: LeaseMemory, input: Inputs["renewAll"]): Promise<RenewAllResult> {
  const out = await ledger.renewAll(input);
  const answered = new Set([...out.renewed.map((w) => w.id), ...out.refused.map((f) => f.id)]);
  for (const l of memory.all().filter((x) => x.project === input.project && !answered.has(x.id))) {
    try {
      out.renewed.push(await ledger.renew({ ...input, id: l.id, lease_token: l.token }));
    } catch (e) {
      if (!isLedgerError(e)) throw e;
      // Said once, then forgotten (twentieth and twenty-first trials: exit 5 for ever, minutes after another agent took it);
      // the ledger still fences the caller's writes by name.
      if (e.code === "LEASE_LOST" && l.told) {
        memory.forget(l.project, l.id);
        continue;
      }
      out.refused.push({ id: l.id, error: e.toJSON() });
      if (e.code === "LEASE_LOST") memory.remember({ ...l, lost: true, told: true });
    }
  }
  return out;
}

/** `ledger`, with each claim's token remembered in `memory` and attached to the caller's later holder writes. */
export function withLeaseMemory(ledger: LedgerApi, memory: LeaseMemory): LedgerApi {
  return new Proxy(ledger, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      if (prop === "renewAll") return (input: Inputs["renewAll"]) => renewAllRemembered(target, memory, input);
      const op = BY_NAME.get(prop);
      if (!op) return (value as (...a: unknown[]) => unknown).bind(target);
      const call = (input: unknown) => (value as (i: unknown) => Promise<unknown>).call(target, input);
      return async (input: Input) => {
        const agent = typeof input.agent === "string" ? input.agent : undefined;
        if (op.lease === "takes") {
          try {
            const result = await call(input);
            learn(memory, workOrderOf(result), agent);
            return result;
          } catch (e) {
            throw adoptOwn(memory, e);
          }
        }
        const id = woId.safeParse(input.id);
        const project = typeof input.project === "string" ? input.project : undefined;
        const known = id.success && project !== undefined && input.lease_token === undefined ? memory.recall(project, id.data) : undefined;
        try {
          const result = await call(known ? { ...input, lease_token: known.token } : input);
          // Spend is accounting, accepted from a lapsed holder too: its result says nothing of this caller's lease
          // (learning from it forgot a lost token, and let a stale session act as its agent's new one: ninth MCP trial).
          if (op.name !== "spend") learn(memory, workOrderOf(result), agent);
          return result;
        } catch (e) {
          // Keep the dead token: forgetting it would let this caller's next write through as its agent's.
          if (known && isLedgerError(e) && e.code === "LEASE_LOST") memory.remember({ ...known, lost: true });
          throw e;
        }
      };
    },
  });
}
