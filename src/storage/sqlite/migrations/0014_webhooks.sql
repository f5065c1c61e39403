-- Webhook subscriptions (issue 26): where the ledger's events go, signed
-- with the subscription's secret (kept to sign with, never shown again),
-- delivered after `cursor` (the seq of the last event handled) by the one
-- deliverer holding the subscription's lease (owner, until owner_until).
-- `health` is JSON: counters, the last error, the last test.
CREATE TABLE webhooks (
  id            TEXT PRIMARY KEY,
  url           TEXT NOT NULL,
  format        TEXT NOT NULL CHECK (format IN ('standard', 'slack')),
  events        TEXT NOT NULL,
  project       TEXT,
  secret        TEXT NOT NULL,
  allow_private INTEGER NOT NULL CHECK (allow_private IN (0, 1)),
  state         TEXT NOT NULL CHECK (state IN ('active', 'paused', 'suspended')),
  cursor        INTEGER NOT NULL,
  created_by    TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  health        TEXT NOT NULL,
  owner         TEXT,
  owner_until   TEXT
);
