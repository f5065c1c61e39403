/** The columns of the webhooks table, in the order both stores write them (id first). */
export const WEBHOOK_COLUMNS = [
  "id",
  "url",
  "format",
  "events",
  "project",
  "secret",
  "allow_private",
  "state",
  "cursor",
  "created_by",
  "created_at",
  "health",
  "owner",
  "owner_until",
] as const;
