/** Webhook subscriptions (an admin's), and what serve's deliverer asks of the ledger. */
import { destinationRefused } from "../address.js";
import { LedgerError } from "../errors.js";
import { inputs, type Inputs } from "../schemas.js";
import { requireProject } from "../steps.js";
import { assertAdmin } from "../tokens.js";
import type { LedgerEvent } from "../types.js";
import { parse } from "../validate.js";
import { NO_HEALTH, mayDeliver, newWebhookId, newWebhookSecret, notFound as webhookNotFound, toPublicWebhook, type PublicWebhook, type Webhook, urlProblem } from "../webhooks.js";
import { followed, type Service } from "./shared.js";

/** Why webhooks are admins' (tokens.assertAdmin). */
const WEBHOOKS_ARE_ADMINS = "the server sends every matching event of the ledger to the URL, so choosing where is an admin's act";

export async function webhookAdd(svc: Service, input: Inputs["webhookAdd"]): Promise<PublicWebhook & { secret: string }> {
  const w = parse(inputs.webhookAdd, input);
  assertAdmin(w.role, "subscribe a URL to the ledger's events", WEBHOOKS_ARE_ADMINS);
  const allowPrivate = w.allow_private ?? false;
  const bad = urlProblem(w.url) ?? (await destinationRefused(new URL(w.url), allowPrivate, svc.opts.resolveHost));
  if (bad !== null)
    throw new LedgerError("VALIDATION", `url: ${bad}; nothing was stored`, {
      hint: "give an http(s) URL on the public internet (or, for a private one, allow_private as an admin)",
      details: { issues: [{ field: "url", message: bad }] },
    });
  return svc.write(async (tx) => {
    if (w.project !== undefined) await requireProject(tx, w.project);
    const hook: Webhook = {
      id: newWebhookId(),
      url: w.url,
      format: w.format ?? "standard",
      events: [...new Set(w.events)],
      project: w.project ?? null,
      secret: newWebhookSecret(),
      allow_private: allowPrivate,
      state: "active",
      cursor: await tx.lastEventSeq(w.project ?? null), // what happens from now on
      created_by: w.agent,
      created_at: tx.now(),
      health: NO_HEALTH,
      owner: null,
      owner_until: null,
    };
    await tx.insertWebhook(hook);
    return { ...toPublicWebhook(hook), secret: hook.secret };
  });
}

export async function webhookList(svc: Service, input: Inputs["webhookList"]): Promise<PublicWebhook[]> {
  assertAdmin(parse(inputs.webhookList, input).role, "list webhook subscriptions", WEBHOOKS_ARE_ADMINS);
  return svc.store.read(async (tx) => (await tx.listWebhooks()).map(toPublicWebhook));
}

export function webhookPause(svc: Service, input: Inputs["webhook"]): Promise<PublicWebhook> {
  return webhookChange(svc, input, "pause", (w) => ({ ...w, state: "paused", owner: null, owner_until: null }));
}

export function webhookResume(svc: Service, input: Inputs["webhook"]): Promise<PublicWebhook> {
  return webhookChange(svc, input, "resume", (w) => ({ ...w, state: "active", health: { ...w.health, failures: 0, failing_since: null } }));
}

export function webhookTest(svc: Service, input: Inputs["webhook"]): Promise<PublicWebhook> {
  return webhookChange(svc, input, "test", (w, now) => ({ ...w, health: { ...w.health, test_requested_at: now } }));
}

export async function webhookDelete(svc: Service, input: Inputs["webhook"]): Promise<{ id: string; deleted: true }> {
  const { id, role } = parse(inputs.webhook, input);
  assertAdmin(role, `delete webhook subscription ${id}`, WEBHOOKS_ARE_ADMINS);
  return svc.write(async (tx) => {
    if (!(await tx.deleteWebhook(id))) throw webhookNotFound(id);
    return { id, deleted: true as const };
  });
}

async function webhookChange(svc: Service, input: Inputs["webhook"], what: string, change: (w: Webhook, now: string) => Webhook): Promise<PublicWebhook> {
  const { id, role } = parse(inputs.webhook, input);
  assertAdmin(role, `${what} webhook subscription ${id}`, WEBHOOKS_ARE_ADMINS);
  return svc.write(async (tx) => {
    const w = await tx.getWebhook(id);
    if (w === null) throw webhookNotFound(id);
    const next = change(w, tx.now());
    await tx.saveWebhook(next);
    return toPublicWebhook(next);
  });
}

/**
 * The subscriptions deliverer `owner` may send for now (active ones, and
 * any with a test asked for), each taken under the ledger's own lease for
 * `leaseMs` (webhooks.mayDeliver): another deliverer gets one only after
 * its holder stopped renewing it.
 */
export async function webhooksToDeliver(svc: Service, owner: string, leaseMs: number): Promise<Webhook[]> {
  // Read first, so a poll that finds nothing to take writes nothing; the take itself is judged again under the row's lock.
  const candidates = await svc.store.read(async (tx) => {
    const now = tx.now();
    return (await tx.listWebhooks()).filter((w) => mayDeliver(w, owner, now));
  });
  const out: Webhook[] = [];
  for (const { id } of candidates) {
    const taken = await webhookProgress(svc, id, owner, leaseMs, (w) => w, true);
    if (taken) out.push(taken);
  }
  return out;
}

/**
 * Applies `change` (a rule of webhooks.ts, given the ledger's now) to a
 * subscription deliverer `owner` holds, renewing its lease; null when it
 * does not hold it (any more), or an admin paused it: stop sending for it.
 */
export async function webhookProgress(
  svc: Service,
  id: string,
  owner: string,
  leaseMs: number,
  change: (w: Webhook, now: string) => Webhook,
  take = false,
): Promise<Webhook | null> {
  return svc.write(async (tx) => {
    const w = await tx.getWebhook(id);
    const now = tx.now();
    if (w === null) return null;
    if (take ? !mayDeliver(w, owner, now) : w.owner !== owner) return null;
    const next = change({ ...w, owner, owner_until: new Date(Date.parse(now) + leaseMs).toISOString() }, now);
    await tx.saveWebhook(next);
    return next;
  });
}

/** Events after a subscription's cursor, in delivery order (as watch reads them). */
export async function webhookEvents(svc: Service, w: Webhook, limit: number): Promise<LedgerEvent[]> {
  return svc.store.read((tx) => followed(tx, w.project, w.cursor, limit));
}

/** Lets go of every subscription `owner` holds (a server shutting down), so another server takes them at once. */
export async function webhooksRelease(svc: Service, owner: string): Promise<void> {
  for (const { id, owner: o } of await svc.store.read((tx) => tx.listWebhooks())) {
    if (o === owner) await webhookProgress(svc, id, owner, 0, (w) => ({ ...w, owner: null, owner_until: null }));
  }
}
