/**
 * Token lookups, remembered for a moment (on PostgreSQL: see index.ts). Looking a bearer token up
 * is a read transaction of its own before every ledger call: on PostgreSQL
 * three round trips, as many as a whole completion, and the main reason the
 * HTTP door ran at under half the speed of the store called directly.
 *
 * The trade-off is revocation: a token revoked after a server looked it up is
 * still accepted by that server for at most TTL_MS. Tokens are revoked with
 * `workledger token revoke` straight in the database, which no server hears
 * about, so every server of a fleet relies on the same bound rather than on
 * being told; no server keeps an entry longer, whatever the others do, so
 * with any number of servers a revocation takes effect everywhere within
 * TTL_MS. Only live tokens are remembered: unknown and revoked ones are
 * looked up every time (and limited per address before that), and a record
 * never changes except by revocation, so nothing else can go stale.
 *
 * Only a PostgreSQL ledger gets the cache (the composition point, index.ts,
 * asks for it). An embedded SQLite ledger answers a lookup in-process in
 * microseconds, so there a cache would weaken revocation (refused at once
 * today) for nothing.
 */
import { hashToken } from "./auth.js";
import type { Tokens } from "./tokens.js";
import type { TokenRecord } from "./types.js";

export type TokenLookup = Pick<Tokens, "find">;

/** Long enough that a busy agent looks its token up about once a second, short enough for revocation. */
export const TTL_MS = 1000;
/** Bounds memory under many distinct tokens; the oldest entry goes first. */
const MAX_ENTRIES = 10_000;

export class TokenCache implements TokenLookup {
  private readonly entries = new Map<string, { record: TokenRecord; until: number }>();

  constructor(
    private readonly tokens: TokenLookup,
    private readonly ttlMs = TTL_MS,
    /** Milliseconds on a monotonic clock (tests move it by hand). */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  async find(secret: string): Promise<TokenRecord | null> {
    const key = hashToken(secret); // the secret itself is not kept
    const asked = this.clock();
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.until > asked) return hit.record;
    const record = await this.tokens.find(secret);
    this.entries.delete(key);
    if (record !== null && record.revoked_at === null) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      // Counted from before the lookup: the answer was true at some instant after that, so the bound holds.
      this.entries.set(key, { record, until: asked + this.ttlMs });
    }
    return record;
  }
}
