/**
 * Leases as long as the agent lives (DESIGN.md §9): while a keep-alive is
 * attached (an MCP session), a claim is held with a short liveness TTL that
 * the keep-alive renews at a third, so a session that ends, cleanly or not,
 * lets its WOs go within about a minute instead of the claim's whole TTL.
 * A shorter TTL asked for is kept; renewals stop at the claim's max hold.
 */
import { parseDuration } from "./duration.js";
import { DEFAULT_TTL_MS, MAX_TTL_MS } from "./schemas.js";

export const LIVENESS_TTL_MS = 60_000;

/** The TTL a kept-alive claim asks for: the one given (or the default) when shorter than the liveness TTL, else the liveness TTL; one out of range is left for the schema to refuse. */
export function livenessTtl(requested: unknown): unknown {
  if (requested !== undefined && typeof requested !== "string") return requested; // the schema names what is wrong
  const ms = requested === undefined ? DEFAULT_TTL_MS : parseDuration(requested);
  if (ms === null || ms <= LIVENESS_TTL_MS || ms > MAX_TTL_MS) return requested;
  return `${LIVENESS_TTL_MS / 1000}s`;
}
