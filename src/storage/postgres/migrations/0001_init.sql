-- workledger schema v1 for PostgreSQL: the SQLite migrations 0001 and 0002 in
-- native types. Times are timestamptz (the adapter reads them back as ISO-8601
-- UTC strings with milliseconds); string and id lists are text[] / integer[].
-- Names that are sorted on use COLLATE "C" so listings order byte-wise, exactly
-- like SQLite, whatever the database's locale. Event data and git state are
-- `json`, not `jsonb`: json keeps the key order the core wrote ({from, to}),
-- so history reads the same on both back ends.
CREATE TABLE projects (
  name       text COLLATE "C" PRIMARY KEY,
  next_id    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL
);

CREATE TABLE work_orders (
  project          text COLLATE "C" NOT NULL REFERENCES projects (name),
  id               integer NOT NULL,
  title            text NOT NULL,
  description      text NOT NULL,
  repo             text NOT NULL,
  acceptance       text[] NOT NULL,
  scope            text NOT NULL,
  files            text[] NOT NULL,
  verification     text NOT NULL,
  priority         text COLLATE "C" NOT NULL CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
  handover         text NOT NULL,
  labels           text[] NOT NULL,
  depends_on       integer[] NOT NULL,
  status           text NOT NULL CHECK (status IN ('open', 'claimed', 'blocked', 'done', 'cancelled')),
  prior_status     text,
  lease_agent      text,
  lease_token      integer,
  lease_claimed_at timestamptz,
  lease_expires_at timestamptz,
  lease_renewed_at timestamptz,
  fence            integer NOT NULL DEFAULT 0,
  revision         integer NOT NULL,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (project, id),
  -- A lease exists exactly when the stored status is claimed.
  CHECK ((status = 'claimed') = (lease_agent IS NOT NULL AND lease_expires_at IS NOT NULL))
);

-- The open queue in claim order; keeps find-unclaimed and claim --next cheap at millions of rows.
CREATE INDEX work_orders_queue ON work_orders (project, status, priority, id);
-- Leases are few; a partial index finds the live and lapsed ones without scanning the ledger.
CREATE INDEX work_orders_leases ON work_orders (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

CREATE TABLE notes (
  id         bigserial PRIMARY KEY,
  project    text COLLATE "C" NOT NULL,
  wo         integer NOT NULL,
  agent      text NOT NULL,
  kind       text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL,
  FOREIGN KEY (project, wo) REFERENCES work_orders (project, id)
);
CREATE INDEX notes_by_wo ON notes (project, wo, id);

CREATE TABLE events (
  seq      bigserial PRIMARY KEY,
  project  text COLLATE "C" NOT NULL,
  wo       integer,
  type     text NOT NULL,
  agent    text NOT NULL,
  revision integer,
  at       timestamptz NOT NULL,
  data     json NOT NULL
);
CREATE INDEX events_by_wo ON events (project, wo, seq);

CREATE TABLE context (
  id         bigserial PRIMARY KEY,
  project    text COLLATE "C" NOT NULL REFERENCES projects (name),
  key        text COLLATE "C" NOT NULL,
  body       text NOT NULL,
  agent      text NOT NULL,
  wo         integer,
  created_at timestamptz NOT NULL,
  git        json
);
CREATE INDEX context_by_key ON context (project, key, id);

CREATE TABLE idempotency (
  project      text COLLATE "C" NOT NULL,
  key          text COLLATE "C" NOT NULL,
  request_hash text NOT NULL,
  ids          integer[] NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (project, key)
);

-- API tokens for `workledger serve`. Only a hash of each secret is stored.
CREATE TABLE tokens (
  id         text COLLATE "C" PRIMARY KEY,
  agent      text NOT NULL,
  role       text NOT NULL CHECK (role IN ('agent', 'admin', 'reader')),
  project    text COLLATE "C",
  hash       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
