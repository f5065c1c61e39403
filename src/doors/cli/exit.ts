/**
 * The CLI's one mapping from error codes to exit codes (DESIGN.md §5).
 * Exits 6 (verification failed) and 8 (context stale) are results, not
 * errors: `verify` and `context-pull --require-fresh` print their normal
 * output and set the exit code themselves.
 */
import type { ErrorCode } from "../../core/errors.js";

export const EXIT: Record<ErrorCode, number> = {
  INTERNAL: 1,
  VALIDATION: 2,
  NO_IDENTITY: 2,
  LEASE_HELD: 3,
  NOT_HOLDER: 3,
  REVISION_MISMATCH: 3,
  ILLEGAL_TRANSITION: 3,
  FILE_CONFLICT: 3,
  DEPENDENCY_PENDING: 3,
  IDEMPOTENCY_MISMATCH: 3,
  VERIFICATION_CHANGED: 3,
  UNTRUSTED_VERIFICATION: 3,
  SANDBOX_REQUIRED: 3,
  BUDGET_EXHAUSTED: 3,
  CAPABILITY_MISSING: 3,
  NOT_FOUND: 4,
  NOTHING_TO_CLAIM: 4,
  LEASE_LOST: 5,
  MAX_HOLD_REACHED: 5,
  VERIFICATION_REQUIRED: 6,
  UNAVAILABLE: 7,
  RATE_LIMITED: 7,
  PAYLOAD_TOO_LARGE: 2,
  UNAUTHORIZED: 9,
  FORBIDDEN: 9,
};
