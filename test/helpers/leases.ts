import assert from "node:assert/strict";

/** Lease intervals per WO from the event log must never overlap: each claim ends before the next begins. */
export function assertNoOverlappingLeases(events: { wo: number | null; type: string; data: Record<string, unknown> }[]): void {
  const holding = new Map<number, boolean>();
  for (const e of events) {
    if (e.wo === null) continue;
    const ends = e.type === "released" || e.type === "expired" || (e.type === "status_changed" && e.data.lease_ended === true);
    if (e.type === "claimed") {
      assert.ok(!holding.get(e.wo), `WO-${e.wo} claimed while already held`);
      holding.set(e.wo, true);
    } else if (ends) {
      assert.ok(holding.get(e.wo), `WO-${e.wo} lease ended without a claim`);
      holding.set(e.wo, false);
    }
  }
}
