/** Times as people read them, on the server's clock (leases expire by the server's time, not the browser's). */
let offsetMs = 0;

export function syncClock(serverNowIso: string, sentAt: number, receivedAt: number): void {
  offsetMs = Date.parse(serverNowIso) - (sentAt + receivedAt) / 2;
}

export const serverNow = (): number => Date.now() + offsetMs;

function span(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${String(s % 60).padStart(2, "0")}s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${String(m % 60).padStart(2, "0")}m` : ""}`;
  return `${Math.floor(h / 24)}d`;
}

export function ago(iso: string, now = serverNow()): string {
  const ms = now - Date.parse(iso);
  return ms < 1000 ? "just now" : `${span(ms)} ago`;
}

export function age(ms: number): string {
  return span(Math.max(0, ms));
}

export type LeaseState = "live" | "warn" | "expired";

/** Warn in the last quarter of the lease, and at most in its last five minutes. */
export function leaseState(lease: { claimed_at: string; renewed_at: string | null; expires_at: string }, now = serverNow()): { state: LeaseState; remainingMs: number } {
  const expires = Date.parse(lease.expires_at);
  const ttl = expires - Date.parse(lease.renewed_at ?? lease.claimed_at);
  const remainingMs = expires - now;
  if (remainingMs <= 0) return { state: "expired", remainingMs: 0 };
  return { state: remainingMs <= Math.min(5 * 60_000, ttl / 4) ? "warn" : "live", remainingMs };
}

export function countdown(remainingMs: number): string {
  return remainingMs <= 0 ? "expired" : `expires in ${span(remainingMs + 999)}`;
}
