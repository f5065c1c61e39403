/**
 * The webhook deliverer of one `serve` process (issue 26): takes the
 * subscriptions it may send for under the ledger's own lease
 * (Ledger.webhooksToDeliver), sends each one's events in order, one at a
 * time, and moves its cursor only after the receiver answered 2xx, so a
 * crash repeats at most the event in flight (with the same webhook-id).
 * Failures back off exponentially with jitter; the rules of what is sent and
 * when a subscription is suspended are core/webhooks.ts's.
 */
import { randomBytes } from "node:crypto";
import type { Ledger } from "../../core/ledger.js";
import type { LedgerEvent } from "../../core/types.js";
import { backoffMs, delivered, failed, message, signedHeaders, testMessage, wants, type Webhook } from "../../core/webhooks.js";
import { post, type Answer } from "../../net/outbound.js";

export interface DelivererOptions {
  /** A receiver's whole answer must come within this (default 10 s). */
  timeoutMs?: number;
  /** Retries back off from 1 s to this (default 5 min). */
  retryMaxMs?: number;
  /** A subscription failing for this long is suspended (default 24 h). */
  suspendAfterMs?: number;
  /** How often to look for work (default 1 s; a commit of this server wakes it sooner). */
  pollMs?: number;
  onDelivery?: (result: "ok" | "error", seconds: number) => void;
}

/** The deliverer's lease on a subscription outlasts three receiver timeouts, so a slow receiver does not let a second server in. */
const leaseFor = (timeoutMs: number) => Math.max(6000, 3 * timeoutMs);
const BATCH = 100;
const RETRY_BASE_MS = 1000;

export class Deliverer {
  /** This process, as the holder of the subscriptions' leases. */
  readonly owner = `deliverer-${randomBytes(6).toString("hex")}`;
  private readonly running = new Set<string>();
  private readonly nextTry = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<void> | undefined;
  private readonly timeoutMs: number;
  private readonly retryMaxMs: number;
  private readonly suspendAfterMs: number;
  private readonly leaseMs: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly opts: DelivererOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retryMaxMs = opts.retryMaxMs ?? 5 * 60_000;
    this.suspendAfterMs = opts.suspendAfterMs ?? 24 * 3_600_000;
    this.leaseMs = leaseFor(this.timeoutMs);
  }

  start(): void {
    this.schedule(0);
  }

  /** Something was committed: look now rather than at the next poll. */
  wake(): void {
    if (!this.stopped && this.ticking === undefined) this.schedule(0);
  }

  /** Stops taking work, waits for what is in flight, and lets go of the subscriptions so another server takes them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    while (this.running.size) await new Promise((r) => setTimeout(r, 20));
    await this.ledger.webhooksRelease(this.owner).catch(() => undefined);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((e: unknown) => void process.stderr.write(`workledger webhooks: ${(e as Error).message}\n`))
        .finally(() => {
          this.ticking = undefined;
          if (!this.stopped) this.schedule(this.opts.pollMs ?? 1000);
        });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    for (const w of await this.ledger.webhooksToDeliver(this.owner, this.leaseMs)) {
      if (this.stopped || this.running.has(w.id)) continue;
      this.running.add(w.id);
      void this.serve(w)
        .catch((e: unknown) => void process.stderr.write(`workledger webhooks: subscription ${w.id}: ${(e as Error).message}\n`))
        .finally(() => this.running.delete(w.id));
    }
  }

  /** Sends what one subscription is owed, in order, until it is caught up, fails, or is no longer this deliverer's. */
  private async serve(held: Webhook): Promise<void> {
    let w: Webhook | null = held;
    if (w.health.test_requested_at !== null) w = await this.test(w);
    if (w === null || w.state !== "active" || Date.now() < (this.nextTry.get(w.id) ?? 0)) return;
    while (w !== null && !this.stopped) {
      const events = await this.ledger.webhookEvents(w, BATCH);
      if (events.length === 0) return;
      // Events it does not want only move the cursor, once per run of them.
      const skipTo = async (seq: number | undefined) => (seq === undefined || w === null ? w : this.progress(w, (x, now) => delivered(x, seq, now, false)));
      let skipped: number | undefined;
      for (const e of events) {
        if (!wants(w, e)) {
          skipped = e.seq;
          continue;
        }
        w = await skipTo(skipped);
        skipped = undefined;
        if (w === null || this.stopped) return;
        const sent = await this.send(w, e);
        if (sent !== true) {
          w = await this.progress(w, (x, now) => failed(x, sent, now, this.suspendAfterMs));
          if (w !== null) this.nextTry.set(w.id, Date.now() + backoffMs(w.health.failures, RETRY_BASE_MS, this.retryMaxMs, Math.random()));
          return;
        }
        this.nextTry.delete(w.id);
        w = await this.progress(w, (x, now) => delivered(x, e.seq, now, true));
        if (w === null || this.stopped) return;
      }
      w = await skipTo(skipped);
    }
  }

  private progress(w: Webhook, change: (x: Webhook, now: string) => Webhook): Promise<Webhook | null> {
    return this.ledger.webhookProgress(w.id, this.owner, this.leaseMs, change);
  }

  /** Sends one event; true, or why it failed. */
  private async send(w: Webhook, e: LedgerEvent): Promise<true | string> {
    const m = message(w, e);
    return this.deliver(w, m.id, m.body);
  }

  private async test(w: Webhook): Promise<Webhook | null> {
    const m = testMessage(w, w.health.test_requested_at!);
    const sent = await this.deliver(w, m.id, m.body);
    return this.progress(w, (x, now) => ({ ...x, health: { ...x.health, test_requested_at: null, test_result: `${sent === true ? "delivered" : `failed: ${sent}`} at ${now}` } }));
  }

  private async deliver(w: Webhook, id: string, body: string): Promise<true | string> {
    const started = process.hrtime.bigint();
    let answer: Answer | undefined;
    let error: string | undefined;
    try {
      answer = await post(new URL(w.url), signedHeaders(w.secret, id, Math.floor(Date.now() / 1000), body), body, { timeoutMs: this.timeoutMs, allowPrivate: w.allow_private });
      if (answer.status < 200 || answer.status > 299) error = `HTTP ${answer.status}${answer.excerpt ? `: ${answer.excerpt}` : ""}`;
    } catch (e) {
      error = (e as Error).message;
    }
    this.opts.onDelivery?.(error === undefined ? "ok" : "error", Number(process.hrtime.bigint() - started) / 1e9);
    return error ?? true;
  }
}
