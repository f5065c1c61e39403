// The worker's side of bench/together.ts, and the loop every workledger
// worker times, whatever its store.

/** Says ready, then waits for the go line. */
export function readyThenGo() {
  process.stdout.write("ready\n");
  return new Promise((resolve) => process.stdin.once("data", () => resolve()));
}

/** Up to `n` claim --next + update --status done cycles; stops when nothing is left to claim. */
export async function claimAndComplete(ledger, project, agent, n) {
  let done = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let wo;
    try {
      wo = await ledger.claim({ project, agent, next: true, ttl: "5m" });
    } catch (e) {
      if (e.code === "NOTHING_TO_CLAIM") break;
      throw e;
    }
    await ledger.update({ project, agent, id: wo.id, status: "done", lease_token: wo.lease.token });
    done++;
  }
  return { done, ms: performance.now() - t0 };
}
