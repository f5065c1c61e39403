/** Token administration and authentication over the same store as the ledger. */
import { hashToken, newToken } from "./auth.js";
import { LedgerError } from "./errors.js";
import { inputs, type Inputs } from "./schemas.js";
import type { Role, TokenRecord } from "./types.js";
import { parse } from "./validate.js";
import type { Store } from "./port.js";

export type PublicToken = Omit<TokenRecord, "hash">;

/**
 * Tokens are identities: whoever mints one can act as anyone, admin included.
 * A local agent that could mint an admin token and serve it to itself would be
 * an admin (issue 23's third trial), so managing tokens is for admins only.
 */
export function assertAdmin(by: Role, what: string, why = "a token acts as whoever it names, so minting one is an admin's act"): void {
  if (by === "admin") return;
  throw new LedgerError("FORBIDDEN", `only an admin may ${what}: ${why}`, {
    hint: "ask a person to run it as an admin in their own shell",
    details: { role: by },
  });
}

const strip = ({ hash: _h, ...pub }: TokenRecord): PublicToken => pub;

export class Tokens {
  constructor(private readonly store: Store) {}

  /** Creates a token; the secret is returned this once and never stored. */
  async create(input: Inputs["tokenCreate"], by: Role): Promise<PublicToken & { token: string }> {
    const t = parse(inputs.tokenCreate, input);
    assertAdmin(by, `create a token (here: one acting as ${t.agent}, role ${t.role})`);
    const { id, secret } = newToken();
    return this.store.write(async (tx) => {
      const record: TokenRecord = {
        id,
        agent: t.agent,
        role: t.role,
        project: t.project ?? null,
        hash: hashToken(secret),
        created_at: tx.now(),
        revoked_at: null,
        can: t.can ?? null,
      };
      await tx.insertToken(record);
      return { ...strip(record), token: secret };
    });
  }

  list(by: Role): Promise<PublicToken[]> {
    assertAdmin(by, "list tokens");
    return this.store.read(async (tx) => (await tx.listTokens()).map(strip));
  }

  async revoke(input: Inputs["tokenRevoke"], by: Role): Promise<PublicToken> {
    const { id } = parse(inputs.tokenRevoke, input);
    assertAdmin(by, `revoke token ${id}`);
    return this.store.write(async (tx) => {
      const ok = await tx.revokeToken(id, tx.now());
      const found = (await tx.listTokens()).find((t) => t.id === id);
      if (!found) throw new LedgerError("NOT_FOUND", `no token with id ${id}`, { hint: "an admin's token list shows the ids", details: { id } });
      if (!ok && found.revoked_at === null) throw new LedgerError("INTERNAL", `token ${id} could not be revoked`);
      return strip(found);
    });
  }

  /** The live or revoked record for a presented secret, or null when unknown. */
  async find(secret: string): Promise<TokenRecord | null> {
    return this.store.read((tx) => tx.findToken(hashToken(secret)));
  }

  async any(): Promise<boolean> {
    return this.store.read(async (tx) => (await tx.listTokens()).some((t) => t.revoked_at === null));
  }
}
