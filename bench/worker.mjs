// The worker's side of bench/together.ts, and the loops every worker times,
// whatever its store.

/** Says ready, then waits for the go line. */
export function readyThenGo() {
  process.stdout.write("ready\n");
  return new Promise((resolve) => process.stdin.once("data", () => resolve()));
}

/**
 * Runs `cycle(i)` up to `n` times, until it returns false; reports the cycles
 * done, the wall time and this process's CPU time (user + system) they took.
 */
export async function timed(n, cycle) {
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (done < n && (await cycle(done))) done++;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { done, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Up to `n` claim --next + update --status done cycles; stops when nothing is left to claim. */
export function claimAndComplete(ledger, project, agent, n) {
  return timed(n, async () => {
    let wo;
    try {
      wo = await ledger.claim({ project, agent, next: true, ttl: "5m" });
    } catch (e) {
      if (e.code === "NOTHING_TO_CLAIM") return false;
      throw e;
    }
    await ledger.update({ project, agent, id: wo.id, status: "done", lease_token: wo.lease.token });
    return true;
  });
}
