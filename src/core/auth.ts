/**
 * API tokens: random secrets shown once and stored hashed, and the rules of
 * who may do what. The identity of a request is the token's agent, never a
 * name in the request body.
 */
import { createHash, randomBytes } from "node:crypto";
import { LedgerError } from "./errors.js";
import type { Role, TokenRecord } from "./types.js";

export type Access = "read" | "write" | "admin";

export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** `wl_<id>_<secret>`: the id is public (list/revoke), the secret is 192 random bits. */
export function newToken(): { id: string; secret: string } {
  const id = randomBytes(6).toString("hex");
  return { id, secret: `wl_${id}_${randomBytes(24).toString("base64url")}` };
}

/** Whether text has the shape newToken gives secrets (checked before spending a lookup on it). */
export function looksLikeToken(secret: string): boolean {
  return /^wl_[0-9a-f]{12}_[A-Za-z0-9_-]{32}$/.test(secret);
}

const CAN: Record<Role, readonly Access[]> = { reader: ["read"], agent: ["read", "write"], admin: ["read", "write", "admin"] };

/** Throws unless the token may perform `access` on `project` (null: not project-specific). */
export function authorize(token: TokenRecord | null, access: Access, project: string | null): TokenRecord {
  if (token === null || token.revoked_at !== null) {
    throw new LedgerError("UNAUTHORIZED", token ? `token ${token.id} was revoked` : "missing or unknown API token", {
      hint: "send Authorization: Bearer <token>; an admin creates one with: workledger token create --as-admin --agent NAME --role agent",
    });
  }
  if (!CAN[token.role].includes(access)) {
    throw new LedgerError(
      "FORBIDDEN",
      `token ${token.id} has role ${token.role}, which cannot ${access === "read" ? "read" : access === "write" ? "write" : "do what only admins may"}`,
      {
        hint: access === "write" ? "readers can only read; use a token with role agent or admin" : "use an admin token",
        details: { role: token.role, needs: access },
      },
    );
  }
  if (token.project !== null && project !== null && token.project !== project) {
    throw new LedgerError("FORBIDDEN", `token ${token.id} is limited to project ${token.project}, not ${project}`, {
      hint: `use a token for project ${project}, or one not limited to a project`,
      details: { token_project: token.project, project },
    });
  }
  if (token.project !== null && project === null && access !== "read") {
    throw new LedgerError("FORBIDDEN", `token ${token.id} is limited to project ${token.project}`, { details: { token_project: token.project } });
  }
  return token;
}
