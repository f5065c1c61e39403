/**
 * Fencing to the merge (issue 26): a commit made for a WO carries the lease it
 * was made under as git trailers, `Work-Order: ancc#53` and `Lease-Token: 2`,
 * so a hook, `check-commits` or a server can judge it against the ledger's
 * attempts long after the lease ended.
 */
export const WORK_ORDER_TRAILER = "Work-Order";
export const LEASE_TOKEN_TRAILER = "Lease-Token";

export interface CommitLease {
  project: string;
  id: number;
  token: number;
}

/** The trailer lines for a commit made under `lease`. */
export const trailerLines = (l: CommitLease): string[] => [`${WORK_ORDER_TRAILER}: ${l.project}#${l.id}`, `${LEASE_TOKEN_TRAILER}: ${l.token}`];

/**
 * The lease a commit names, from its trailers as `git interpret-trailers
 * --parse` prints them (one `Key: value` per line); null when it names none,
 * "malformed" when it names one badly (a WO without a token, or garbage).
 */
export function commitLease(trailers: string): CommitLease | null | "malformed" {
  const values = (key: string) =>
    trailers
      .split("\n")
      .map((l) => new RegExp(`^${key}:\\s*(.*?)\\s*$`, "i").exec(l)?.[1])
      .filter((v): v is string => v !== undefined);
  const wo = values(WORK_ORDER_TRAILER);
  const token = values(LEASE_TOKEN_TRAILER);
  if (wo.length === 0 && token.length === 0) return null;
  if (wo.length !== 1 || token.length !== 1) return "malformed";
  const w = /^([a-z0-9][a-z0-9._-]{0,63})#(\d{1,10})$/.exec(wo[0]!);
  if (!w || !/^\d{1,15}$/.test(token[0]!)) return "malformed";
  return { project: w[1]!, id: Number(w[2]), token: Number(token[0]) };
}
