/**
 * Keep-alive tied to liveness (DESIGN.md §9): while its session lives (an
 * MCP client connected, or the process `keepalive --pid` watches), each lease
 * the session took (its lease memory) is renewed when a third of the lease's
 * length has passed since the claim or the last renewal. It stops when the
 * session ends, so a dead agent's lease lapses one TTL later and a live one
 * never lapses by forgetting. Its renewals append no event.
 *
 * Each renewal says how long the agent has been idle (its last tool call or
 * hook-recorded action): past the project's idle limit the ledger ends the
 * lease instead (issue 25), so a hung agent that is still connected lets go.
 */
import type { LedgerApi } from "../core/api.js";
import { isLedgerError } from "../core/errors.js";
import type { LeaseMemory } from "../core/lease-memory.js";
import { callLedger, OPERATIONS, type Operation } from "../core/operations.js";
import type { Renewed } from "../core/ledger.js";
import { formatDuration } from "../core/duration.js";

const TICK_MS = 250;
const RENEW = OPERATIONS.find((o) => o.name === "renew") as Operation;

export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** When each lease (project\0id\0token) was last claimed or renewed, as this process saw it. */
  private readonly renewedAt = new Map<string, number>();
  private readonly failures: string[] = [];

  constructor(
    private readonly ledger: LedgerApi,
    private readonly memory: LeaseMemory,
    private readonly agent: string | undefined,
    /** How long ago the agent last did something (ms); undefined: unknown, so idleness is not judged. */
    private readonly idleMs: () => number | undefined = () => undefined,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Failed renewals since the last call (the next tool result reports them). */
  takeFailures(): string[] {
    return this.failures.splice(0);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule()), TICK_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    for (const lease of this.memory.all().filter((l) => !l.lost)) {
      const key = `${lease.project}\0${lease.id}\0${lease.token}`;
      const last = this.renewedAt.get(key);
      if (lease.adopted) {
        // Little of it may be left (a session that took a while to start): renewed now, then at the usual pace.
        const { adopted: _a, ...kept } = lease;
        this.memory.remember(kept);
        this.renewedAt.set(key, 0);
      } else {
        if (last === undefined) this.renewedAt.set(key, Date.now()); // first seen: just claimed
        if (last === undefined || Date.now() - last < lease.length_ms / 3) continue;
      }
      try {
        // The memory attaches the token; without a TTL the lease keeps its length. (A remote ledger knows the agent by its token.)
        const idle = this.idleMs();
        const input = { project: lease.project, id: lease.id, keepalive: true, ...(idle === undefined ? {} : { idle_ms: Math.max(0, Math.round(idle)) }) };
        const renewed = (await callLedger(this.ledger, RENEW, { ...input, ...(this.agent === undefined ? {} : { agent: this.agent }) })) as Renewed;
        this.renewedAt.delete(key);
        if (renewed.ended) {
          // Ended for idleness: the agent must stop (its next write about the WO is LEASE_LOST), and is told so.
          this.memory.remember({ ...lease, lost: true });
          const { idle_ms, idle_limit_ms } = renewed.ended;
          this.failures.push(
            `WO-${lease.id} in ${lease.project} went back to the pool: no activity for ${formatDuration(idle_ms)} (the project's idle limit is ${formatDuration(idle_limit_ms)})`,
          );
          continue;
        }
        const now = this.memory.recall(lease.project, lease.id);
        if (now) this.renewedAt.set(`${now.project}\0${now.id}\0${now.token}`, Date.now());
      } catch (e) {
        this.renewedAt.delete(key); // a lost lease is marked so by the memory; anything else is tried again
        if (!this.memory.recall(lease.project, lease.id)) continue; // the session ended it meanwhile (release): nothing to report
        this.failures.push(`keep-alive could not renew WO-${lease.id} in ${lease.project}: ${isLedgerError(e) ? `${e.code}: ${e.message}` : String(e)}`);
      }
    }
  }
}
