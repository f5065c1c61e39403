/** Context handoff: put, pull and history. */
import * as rules from "../rules.js";
import { pulled } from "../context.js";
import { once } from "../idempotency.js";
import { inputs, type Inputs } from "../schemas.js";
import { projectForWrite, recordExpiries, requireProject } from "../steps.js";
import type { ContextEntry } from "../types.js";
import { parse } from "../validate.js";
import type { ContextPull } from "./results.js";
import { DEFAULT_LIST_LIMIT, loadAs, type Service } from "./shared.js";

export async function contextPut(svc: Service, input: Inputs["contextPut"]): Promise<ContextEntry> {
  const c = parse(inputs.contextPut, input);
  return svc.write(
    (tx) =>
      once(tx, "contextPut", c, async () => {
        const now = tx.now();
        await projectForWrite(tx, c.project, c.new_project === true);
        if (c.id !== undefined) {
          rules.assertMayLinkContext(await loadAs(tx, c.project, c.id, c.agent), c.agent, c.role, now, c.lease_token);
        } else if (c.role !== "admin") {
          await recordExpiries(tx, c.project);
          rules.assertNotLapsedSince(await tx.listAttempts({ project: c.project, agent: c.agent, limit: 20 }), c.agent, c.project);
        }
        const entry = await tx.insertContext({
          project: c.project,
          key: c.key ?? "handover",
          body: c.body,
          agent: c.agent,
          wo: c.id ?? null,
          created_at: now,
          git: c.git ?? null,
        });
        await tx.appendEvents([{ project: c.project, wo: entry.wo, type: "context_put", agent: c.agent, revision: null, at: now, data: { key: entry.key, context_id: entry.id } }]);
        return entry;
      }),
    c.role,
  );
}

/** Newest context per key (of those linked to WO `id`, when given), each with its freshness. */
export async function contextPull(svc: Service, input: Inputs["contextPull"]): Promise<ContextPull> {
  const c = parse(inputs.contextPull, input);
  return svc.store.read(async (tx) => {
    await requireProject(tx, c.project);
    const rows = await tx.latestContext(c.project, c.key ?? null, c.id ?? null);
    return pulled(tx, c.project, rows, c.max_age, c.git, c.id);
  });
}

/** Every entry newest first, in the same shape as contextPull (its verdict is the newest entry's). */
export async function contextHistory(svc: Service, input: Inputs["contextPull"]): Promise<ContextPull> {
  const c = parse(inputs.contextPull, input);
  return svc.store.read(async (tx) => {
    await requireProject(tx, c.project);
    const rows = await tx.contextHistory(c.project, c.key ?? null, c.limit ?? DEFAULT_LIST_LIMIT, c.id ?? null);
    const all = await pulled(tx, c.project, rows, c.max_age, c.git);
    return { ...all, verdict: all.entries[0]?.verdict ?? "none" };
  });
}
