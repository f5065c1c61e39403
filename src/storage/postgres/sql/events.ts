/**
 * Statements about events, and the event order. `seq` comes from a sequence
 * at insert time, so without a lock concurrent writers make seq 11 visible
 * before seq 10, and a follower reading `seq > after` that has passed 11
 * would never see 10. Until schema v3 a
 * global advisory lock held to COMMIT prevented that, at the price of one
 * commit (one fsync) at a time in the whole database.
 *
 * Now every event records order_xid = greatest(own xid, xmax of the snapshot
 * taken when the events are written), and followers (followEvents) read in
 * (order_xid, seq) order, only events with order_xid below the xmin of their
 * snapshot (the oldest transaction id still running):
 * - gap-free: an event with order_xid < xmin was written by a transaction
 *   whose id is below xmin, so it has finished and the follower sees all of
 *   it; a transaction still running or not yet started writes order_xid >=
 *   xmin, i.e. after everything a follower has been given;
 * - causal: a writer that waited for another's lock, or read what it
 *   committed, writes its events in a later statement, whose snapshot xmax is
 *   at least as high and whose seq is higher, so it sorts after the other.
 * The price: followers see an event only once every transaction that began
 * writing before it committed has ended (usually milliseconds; a long write
 * transaction anywhere on the server holds them back until it ends), and seq
 * is not monotonic along the stream, so a follower resumes from the seq of the
 * last event it received (followEvents maps it back to its position).
 */
import { saveAttempts, UPDATE_WO } from "./work-orders.js";

const insertEvents = (p: number) => `INSERT INTO events (project, wo, type, agent, revision, at, data, order_xid)
  SELECT e.project, e.wo, e.type, e.agent, e.revision, e.at, e.data, greatest(pg_current_xact_id(), pg_snapshot_xmax(pg_current_snapshot()))
  FROM ROWS FROM (json_to_recordset($${p + 1}::json) AS (project text, wo integer, type text, agent text, revision integer, at timestamptz, data json))
    WITH ORDINALITY AS e(project, wo, type, agent, revision, at, data, n)
  ORDER BY e.n`;
export const INSERT_EVENTS = insertEvents(0);
/** A WO's new state and its events in one round trip (a data-modifying CTE always runs). */
export const SAVE_WITH_EVENTS = `WITH saved AS (${UPDATE_WO}) ${insertEvents(1)}`;
/** The same, with the attempts the change opened or ended (a claim's, a release's) in the same statement. */
export const SAVE_WITH_EVENTS_AND_ATTEMPTS = `WITH saved AS (${UPDATE_WO}), attempted AS (${saveAttempts(3)}) ${insertEvents(1)}`;

/** The stream position of a cursor: the order key of the event with that seq (or the last one before it). */
export const CURSOR = `(SELECT coalesce((SELECT order_xid FROM events WHERE seq <= $1 ORDER BY seq DESC LIMIT 1), '0'::xid8))`;
export const EVENT_COLUMNS = "seq, project, wo, type, agent, revision, at, data";
export const SETTLED = "order_xid < pg_snapshot_xmin(pg_current_snapshot())";
