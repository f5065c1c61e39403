/** What needs a human, and who is at work: the dashboard's first panels (issue 28), read in one transaction each. */
import { buildAttention, buildRoster, type Attention, type Roster } from "../insights.js";
import { buildFlow, type Flow } from "../flow.js";
import { requireProject } from "../steps.js";
import { inputs, type Inputs } from "../schemas.js";
import type { Note } from "../types.js";
import { parse } from "../validate.js";
import { MAX_ROWS, type Service } from "./shared.js";

/** At most this many blocked or failing WOs, and events of a kind, are read for one answer. */
const SHOWN = 200;
const DAY = 86_400_000;

const windowStart = (now: string, ms: number | undefined) => new Date(Date.parse(now) - (ms ?? 7 * DAY)).toISOString();

export async function attention(svc: Service, input: Inputs["attention"]): Promise<Attention> {
  const r = parse(inputs.attention, input);
  await svc.sweep(r.project);
  return svc.store.read(async (tx) => {
    await requireProject(tx, r.project);
    const since = windowStart(tx.now(), r.since);
    const [blocked, events, verifications] = await Promise.all([
      tx.listWorkOrders({ project: r.project, statuses: ["blocked"], limit: SHOWN }),
      tx.recentEventsOfTypes(r.project, ["expired", "write_refused"], since, SHOWN * 10),
      tx.recentEventsOfTypes(r.project, ["note_added"], since, SHOWN * 10),
    ]);
    // A failure counts while it is the WO's newest verification and the WO is not finished.
    const failedIds = [...new Set(verifications.filter((e) => e.data.kind === "verification" && e.data.passed === false).map((e) => e.wo!))].slice(-SHOWN);
    const failing = (await Promise.all(failedIds.map((id) => tx.getWorkOrder(r.project, id)))).filter(
      (wo) => wo !== null && wo.last_verification?.passed === false && (wo.status === "open" || wo.status === "claimed" || wo.status === "blocked"),
    );
    const notes = await Promise.all(blocked.map((wo) => tx.listNotes(r.project, wo.id)));
    const newestBlocker = (list: Note[]) => list.filter((n) => n.kind === "blocker").at(-1);
    return buildAttention(r.project, since, { blocked: blocked.map((wo, i) => ({ wo, blocker: newestBlocker(notes[i]!) })), failing: failing.map((wo) => wo!), events });
  });
}

/** Status changes one flow answer reads at most (a window with more says it is truncated). */
const FLOW_ROWS = 500_000;

export async function flow(svc: Service, input: Inputs["flow"]): Promise<Flow> {
  const r = parse(inputs.flow, input);
  await svc.sweep(r.project);
  return svc.store.read(async (tx) => {
    await requireProject(tx, r.project);
    const until = tx.now();
    const since = windowStart(until, r.since ?? DAY);
    const [{ before, changes }, spent] = await Promise.all([tx.statusChanges(r.project, since, FLOW_ROWS), tx.listSpend({ project: r.project, since, limit: MAX_ROWS })]);
    return buildFlow(r.project, { since, until, buckets: r.buckets ?? 24 }, before, changes, spent, FLOW_ROWS);
  });
}

export async function agents(svc: Service, input: Inputs["agents"]): Promise<Roster> {
  const r = parse(inputs.agents, input);
  await svc.sweep(r.project);
  return svc.store.read(async (tx) => {
    await requireProject(tx, r.project);
    const now = tx.now();
    const since = windowStart(now, r.since ?? DAY);
    const [activity, live] = await Promise.all([tx.agentActivity(r.project, since), tx.liveLeases(r.project, now)]);
    return buildRoster(r.project, since, now, { activity, live });
  });
}
