import { API_DIALECT, renderHint, type HintDialect } from "./hints.js";

/**
 * One error type for every failure the ledger reports. The string code is the
 * contract; each door maps it once (exit code, HTTP status, MCP tool error).
 */
export const ERROR_CODES = {
  VALIDATION: "bad input: a field is missing, malformed or out of range",
  NO_IDENTITY: "a mutating command was run without an agent identity",
  LEASE_HELD: "another agent holds a live lease on the work order",
  NOT_HOLDER: "the caller holds no lease on the work order and may not do this without one (claim it first)",
  REVISION_MISMATCH: "--if-revision did not match the current revision",
  ILLEGAL_TRANSITION: "the status change is not allowed from the current status",
  FILE_CONFLICT: "the work order's files overlap a work order under another live lease",
  DEPENDENCY_PENDING: "a work order it depends on is not done yet",
  IDEMPOTENCY_MISMATCH: "an idempotency key was reused with different input",
  VERIFICATION_CHANGED: "the verification command changed after the lease began; the holder's verify runs only the command it claimed with",
  UNTRUSTED_VERIFICATION: "the verification command was written by an agent the project does not list as a trusted author; nothing was run",
  SANDBOX_REQUIRED: "the project runs verification commands only in a sandbox, and none is available on this machine; nothing was run",
  VERIFICATION_REQUIRED: "the project requires a passing verification under the current lease before done",
  MAX_HOLD_REACHED: "the lease has been renewed up to its cap (max_hold) and cannot be renewed again",
  BUDGET_EXHAUSTED: "the work order has used its budget (attempts, USD or tokens): it is blocked until an admin raises the cap",
  CAPABILITY_MISSING: "the work order needs a capability the caller did not declare",
  NOTHING_TO_CLAIM: "no work order is free to claim",
  NOT_FOUND: "the project, work order or context does not exist",
  LEASE_LOST: "the caller's lease expired or was superseded",
  UNAVAILABLE: "the ledger cannot be opened, is busy, or has a newer schema",
  RATE_LIMITED: "too many requests for this token; retry after a moment",
  PAYLOAD_TOO_LARGE: "the request body is larger than the server accepts",
  UNAUTHORIZED: "missing, unknown or revoked token",
  FORBIDDEN: "the token's role or project does not allow this",
  INTERNAL: "an unexpected internal error",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export class LedgerError extends Error {
  readonly code: ErrorCode;
  /** What to do next, in neutral words (hints.ts); `hint` is its API rendering. */
  readonly hintTemplate: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "LedgerError";
    this.code = code;
    this.hintTemplate = opts.hint;
    this.details = opts.details;
  }

  get hint(): string | undefined {
    return this.hintTemplate === undefined ? undefined : renderHint(this.hintTemplate, API_DIALECT);
  }

  /** The error body, its hint in a door's dialect (default: the API's), or as the neutral template. */
  toJSON(dialect: HintDialect | "template" = API_DIALECT): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.hintTemplate !== undefined) body.hint = dialect === "template" ? this.hintTemplate : renderHint(this.hintTemplate, dialect);
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

export function isLedgerError(e: unknown): e is LedgerError {
  return e instanceof LedgerError;
}
