-- Webhook subscriptions (issue 26): where the ledger's events go, signed
-- with the subscription's secret (kept to sign with, never shown again),
-- delivered after `cursor` (the seq of the last event handled) by the one
-- deliverer holding the subscription's lease (owner, until owner_until).
-- `health` is JSON: counters, the last error, the last test.
CREATE TABLE webhooks (
  id            text COLLATE "C" PRIMARY KEY,
  url           text NOT NULL,
  format        text NOT NULL CHECK (format IN ('standard', 'slack')),
  events        json NOT NULL,
  project       text COLLATE "C",
  secret        text NOT NULL,
  allow_private boolean NOT NULL,
  state         text NOT NULL CHECK (state IN ('active', 'paused', 'suspended')),
  cursor        bigint NOT NULL,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL,
  health        json NOT NULL,
  owner         text,
  owner_until   timestamptz
);
