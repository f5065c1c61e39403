/** Keys remembered at most; the oldest goes first (a full bucket is what a forgotten key gets back). */
const MAX_KEYS = 100_000;

/** A token bucket per key (API token, client address): bursts are fine, sustained floods get 429. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may make a request, without using one up (0: it may). */
  waiting(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.burst, b.tokens + ((this.now() - b.at) / 1000) * this.perSecond);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.perSecond);
  }

  /** Uses up `n` at once, going into debt if need be (a cost known only once the work is done); later requests wait it off. */
  charge(key: string, n: number): void {
    this.refill(key).tokens -= n;
  }

  /** Seconds to wait before retrying, or 0 when the request may proceed. */
  take(key: string): number {
    const b = this.refill(key);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.perSecond);
  }

  /** The key's bucket, filled for the time since it was last used. */
  private refill(key: string): { tokens: number; at: number } {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value as string);
      b = { tokens: this.burst, at: t };
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    this.buckets.set(key, b);
    return b;
  }
}
