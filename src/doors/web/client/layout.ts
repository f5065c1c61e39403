/** The dependency graph's layout, without the DOM (tested in node). */
import type { WorkOrder } from "../../../core/types.js";

/** Depth of each WO: 0 without dependencies among `ids`, else one more than its deepest dependency (cycles cannot exist). */
export function depths(wos: ReadonlyMap<number, Pick<WorkOrder, "depends_on">>): Map<number, number> {
  const depth = new Map<number, number>();
  const of = (id: number, seen: Set<number>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0; // a cycle the ledger refuses; never loop on bad data
    seen.add(id);
    const deps = (wos.get(id)?.depends_on ?? []).filter((d) => wos.has(d));
    const d = deps.length ? 1 + Math.max(...deps.map((x) => of(x, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  for (const id of wos.keys()) of(id, new Set());
  return depth;
}
