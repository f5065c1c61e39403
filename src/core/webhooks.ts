/**
 * Webhooks (issue 26, DESIGN.md §11): subscriptions that receive the ledger's
 * events at least once, in order, signed the Standard Webhooks way. This file
 * holds their rules: which events a subscription takes, what is sent, how
 * retries back off, when a failing one is suspended, and which deliverer may
 * send for it (a lease of the ledger's own, so exactly one at a time however
 * many servers run). Sending is the server's (doors/http/deliverer.ts).
 */
import { createHmac, randomBytes } from "node:crypto";
import { LedgerError } from "./errors.js";
import { label, NEEDS_HUMAN, type LedgerEvent, type PublicWebhook, type Webhook, type WebhookHealth } from "./types.js";

export { NEEDS_HUMAN, WEBHOOK_EVENT_NAMES, WEBHOOK_FORMATS, type PublicWebhook, type Webhook, type WebhookFormat, type WebhookHealth, type WebhookState } from "./types.js";

export const toPublicWebhook = ({ secret: _s, owner: _o, owner_until: _u, ...pub }: Webhook): PublicWebhook => pub;

export const NO_HEALTH: WebhookHealth = {
  delivered: 0,
  failures: 0,
  failing_since: null,
  last_error: null,
  last_error_at: null,
  last_delivery_at: null,
  test_requested_at: null,
  test_result: null,
};

export function newWebhookId(): string {
  return randomBytes(6).toString("hex");
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** Why a URL cannot receive webhooks, judged before any address (null: it may, if its addresses may: core/address.ts). */
export function urlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `must be http or https, not ${url.protocol.replace(":", "")}`;
  if (url.username || url.password) return "must not carry a user name or password (the subscription's secret signs every delivery)";
  if (url.hash) return "must not have a #fragment";
  return null;
}

/** Why an event needs a person (null: it does not): blocked, dead-lettered, a lease lost, a failed verification. */
export function needsHuman(e: LedgerEvent): string | null {
  const d = e.data;
  if (typeof d.dead_letter === "string") return `dead-lettered: ${d.dead_letter}`;
  if (e.type === "expired") return `lease lost: ${String(d.holder)}'s lease lapsed`;
  if (e.type === "write_refused") return `a lapsed holder's write was refused: ${e.agent} kept working after losing its lease`;
  if ((e.type === "status_changed" && d.to === "blocked") || (e.type === "released" && d.status === "blocked")) return "blocked";
  if (e.type === "note_added" && d.kind === "verification" && d.passed === false) return "verification failed";
  return null;
}

export function wants(w: Pick<Webhook, "events" | "project">, e: LedgerEvent): boolean {
  if (w.project !== null && e.project !== w.project) return false;
  return w.events.includes("*") || w.events.includes(e.type) || (w.events.includes(NEEDS_HUMAN) && needsHuman(e) !== null);
}

/** The message of an event: its id (the same on every retry, so a receiver can drop duplicates) and its JSON body. */
export function message(w: Pick<Webhook, "id" | "format">, e: LedgerEvent): { id: string; body: string } {
  const id = `msg_${w.id}_${e.seq}`;
  const why = needsHuman(e);
  if (w.format === "slack") return { id, body: JSON.stringify({ text: oneLine(e, why) }) };
  return { id, body: JSON.stringify({ type: `workledger.${e.type}`, timestamp: e.at, data: { ...e, ...(why ? { needs_human: why } : {}) } }) };
}

/** The test message an admin asks for. */
export function testMessage(w: Pick<Webhook, "id" | "format">, at: string): { id: string; body: string } {
  const id = `msg_${w.id}_test_${Date.parse(at)}`;
  const text = `workledger test delivery for subscription ${w.id}`;
  return { id, body: JSON.stringify(w.format === "slack" ? { text } : { type: "workledger.test", timestamp: at, data: { subscription: w.id, message: text } }) };
}

/** An event as a person reads it in a chat channel. */
function oneLine(e: LedgerEvent, why: string | null): string {
  const wo = e.wo === null ? e.project : `${e.project} ${label(e.wo)}`;
  return `${why ? `[needs a human: ${why}] ` : ""}${wo}: ${e.type.replace("_", " ")} by ${e.agent}`;
}

/**
 * The Standard Webhooks headers of a message sent at `unixSeconds`: the
 * signature is HMAC-SHA256, keyed by the secret's base64 bytes, over
 * `id.timestamp.body`, sent as `v1,<base64>`.
 */
export function signedHeaders(secret: string, id: string, unixSeconds: number, body: string): Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${unixSeconds}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(unixSeconds), "webhook-signature": `v1,${signature}`, "content-type": "application/json" };
}

/** The wait before retry `failures` (1, 2, …): exponential from `baseMs` to `maxMs`, with full jitter (`random` in [0, 1)). */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(cap / 2 + (random * cap) / 2);
}

/** The subscription after a delivery of the event `seq` succeeded (or was not wanted: `sent` false). */
export function delivered(w: Webhook, seq: number, now: string, sent: boolean): Webhook {
  const health = sent ? { ...w.health, delivered: w.health.delivered + 1, failures: 0, failing_since: null, last_delivery_at: now } : w.health;
  return { ...w, cursor: seq, health };
}

/** The subscription after a failed delivery: suspended once it has failed for longer than `suspendAfterMs`. */
export function failed(w: Webhook, error: string, now: string, suspendAfterMs: number): Webhook {
  const failing_since = w.health.failing_since ?? now;
  const health = { ...w.health, failures: w.health.failures + 1, failing_since, last_error: error.slice(0, 500), last_error_at: now };
  const suspend = Date.parse(now) - Date.parse(failing_since) >= suspendAfterMs;
  return { ...w, health, state: suspend ? "suspended" : w.state, ...(suspend ? { owner: null, owner_until: null } : {}) };
}

/** Whether deliverer `owner` may take (or keep) the subscription's lease at `now`: to deliver to an active one, or to send a test asked for. */
export function mayDeliver(w: Webhook, owner: string, now: string): boolean {
  const work = w.state === "active" || w.health.test_requested_at !== null;
  return work && (w.owner === null || w.owner === owner || w.owner_until === null || w.owner_until <= now);
}

export function notFound(id: string): LedgerError {
  return new LedgerError("NOT_FOUND", `no webhook subscription with id ${id}`, { hint: "{{op:webhookList}} shows the subscriptions", details: { id } });
}
