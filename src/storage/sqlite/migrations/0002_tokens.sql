-- API tokens for `workledger serve`. Only a hash of each secret is stored.
CREATE TABLE tokens (
  id         TEXT PRIMARY KEY,
  agent      TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('agent', 'admin', 'reader')),
  project    TEXT,
  hash       TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;
