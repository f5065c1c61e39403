// One benchmark process: claim+complete cycles against one SQLite ledger file,
// either through workledger or as raw better-sqlite3 transactions of the same
// shape (the baseline). Starts when every worker is ready (together.ts), prints its timings.
import Database from "better-sqlite3";
import { openLedger } from "../dist/index.js";
import { claimAndComplete, readyThenGo, timed } from "./worker.mjs";

const [mode, db, project, agent, count] = process.argv.slice(2);
const n = Number(count);

if (mode === "workledger") {
  const ledger = await openLedger({ db });
  await ledger.list({ project, limit: 1 });
  await readyThenGo();
  process.stdout.write(JSON.stringify(await claimAndComplete(ledger, project, agent, n)));
  await ledger.close();
} else {
  // The same work without the ledger: pick the most urgent open row, lease it, log it; then finish it, log it.
  const conn = new Database(db, { timeout: 5000 });
  conn.pragma("journal_mode = WAL");
  conn.pragma("synchronous = FULL");
  const pick = conn.prepare("SELECT id, revision, fence FROM work_orders WHERE project = ? AND status = 'open' ORDER BY priority, id LIMIT 1");
  const take = conn.prepare(
    "UPDATE work_orders SET status = 'claimed', prior_status = 'open', lease_agent = ?, lease_token = ?, lease_claimed_at = ?, lease_expires_at = ?, " +
      "fence = ?, revision = revision + 1, updated_at = ? WHERE project = ? AND id = ?",
  );
  const finish = conn.prepare(
    "UPDATE work_orders SET status = 'done', prior_status = NULL, lease_agent = NULL, lease_token = NULL, lease_claimed_at = NULL, lease_expires_at = NULL, " +
      "revision = revision + 1, updated_at = ? WHERE project = ? AND id = ? AND lease_agent = ?",
  );
  const log = conn.prepare("INSERT INTO events (project, wo, type, agent, revision, at, data) VALUES (?, ?, ?, ?, ?, ?, ?)");
  const begin = conn.prepare("BEGIN IMMEDIATE");
  const commit = conn.prepare("COMMIT");
  await readyThenGo();
  const result = await timed(n, () => {
    begin.run();
    const row = pick.get(project);
    if (!row) {
      commit.run();
      return false;
    }
    const now = new Date().toISOString();
    take.run(agent, row.fence + 1, now, new Date(Date.now() + 300_000).toISOString(), row.fence + 1, now, project, row.id);
    log.run(project, row.id, "claimed", agent, row.revision + 1, now, "{}");
    commit.run();
    begin.run();
    const at = new Date().toISOString();
    finish.run(at, project, row.id, agent);
    log.run(project, row.id, "status_changed", agent, row.revision + 2, at, "{}");
    commit.run();
    return true;
  });
  process.stdout.write(JSON.stringify(result));
  conn.close();
}
