-- workledger schema v1. JSON arrays are stored as TEXT; times as ISO-8601 UTC
-- with milliseconds, which sort correctly as text.
CREATE TABLE projects (
  name       TEXT PRIMARY KEY,
  next_id    INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL
) STRICT;

CREATE TABLE work_orders (
  project          TEXT NOT NULL REFERENCES projects(name),
  id               INTEGER NOT NULL,
  title            TEXT NOT NULL,
  description      TEXT NOT NULL,
  repo             TEXT NOT NULL,
  acceptance       TEXT NOT NULL,
  scope            TEXT NOT NULL,
  files            TEXT NOT NULL,
  verification     TEXT NOT NULL,
  priority         TEXT NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
  handover         TEXT NOT NULL,
  labels           TEXT NOT NULL,
  depends_on       TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'blocked', 'done', 'cancelled')),
  prior_status     TEXT,
  lease_agent      TEXT,
  lease_token      INTEGER,
  lease_claimed_at TEXT,
  lease_expires_at TEXT,
  lease_renewed_at TEXT,
  fence            INTEGER NOT NULL DEFAULT 0,
  revision         INTEGER NOT NULL,
  created_by       TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  PRIMARY KEY (project, id),
  -- A lease exists exactly when the stored status is claimed.
  CHECK ((status = 'claimed') = (lease_agent IS NOT NULL AND lease_expires_at IS NOT NULL))
) STRICT;

-- The open queue in claim order; keeps find-unclaimed and claim --next cheap at millions of rows.
CREATE INDEX work_orders_queue ON work_orders (project, status, priority, id);
-- Leases are few; a partial index finds the live and lapsed ones without scanning the ledger.
CREATE INDEX work_orders_leases ON work_orders (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

CREATE TABLE notes (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  project    TEXT NOT NULL,
  wo         INTEGER NOT NULL,
  agent      TEXT NOT NULL,
  kind       TEXT NOT NULL,
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  FOREIGN KEY (project, wo) REFERENCES work_orders (project, id)
) STRICT;
CREATE INDEX notes_by_wo ON notes (project, wo, id);

CREATE TABLE events (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  project  TEXT NOT NULL,
  wo       INTEGER,
  type     TEXT NOT NULL,
  agent    TEXT NOT NULL,
  revision INTEGER,
  at       TEXT NOT NULL,
  data     TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_wo ON events (project, wo, seq);

CREATE TABLE context (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  project    TEXT NOT NULL REFERENCES projects(name),
  key        TEXT NOT NULL,
  body       TEXT NOT NULL,
  agent      TEXT NOT NULL,
  wo         INTEGER,
  created_at TEXT NOT NULL,
  git        TEXT
) STRICT;
CREATE INDEX context_by_key ON context (project, key, id);

CREATE TABLE idempotency (
  project      TEXT NOT NULL,
  key          TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  ids          TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  PRIMARY KEY (project, key)
) STRICT;
