-- Event delivery order without a global lock (see tx.ts, "Event order").
-- Until v2 every write inserted its events under one advisory lock held to
-- COMMIT, so that `seq` followed commit order; that serialised all commits.
-- Now each event records `order_xid`: the greater of its transaction's id and
-- the snapshot's xmax when the events were written. Followers (watch, SSE)
-- read in (order_xid, seq) order and only below the oldest transaction still
-- running, so nothing can later appear behind their cursor.
-- Existing events all committed long ago: key 0 puts them first, in seq order.
ALTER TABLE events ADD COLUMN order_xid xid8 NOT NULL DEFAULT '0';
-- Every insert must say where it belongs.
ALTER TABLE events ALTER COLUMN order_xid DROP DEFAULT;
CREATE INDEX events_follow ON events (order_xid, seq);
CREATE INDEX events_follow_by_project ON events (project, order_xid, seq);
