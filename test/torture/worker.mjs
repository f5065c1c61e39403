// One torture agent: a real process doing random agent work against the ledger
// (SQLite file through the library, or PostgreSQL through a serve instance),
// logging every operation's start, end, outcome and fencing token as a JSON line.
import { openLedger, RemoteLedger } from "../../dist/index.js";

const [target, project, agent, seedArg, ttl = "2s"] = process.argv.slice(2);
let seed = Number(seedArg) >>> 0 || 1;
const rand = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const pick = (p) => rand() < p;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ledger = target.startsWith("http") ? new RemoteLedger(target.split("#")[0], target.split("#")[1]) : await openLedger({ db: target, busyTimeoutMs: 2000 });
let stopping = false;
process.on("SIGTERM", () => (stopping = true));

async function op(name, fields, fn) {
  const start = Date.now();
  const rec = { w: agent, op: name, ...fields, start };
  try {
    const out = await fn();
    Object.assign(rec, { ok: true, end: Date.now() }, out ?? {});
  } catch (e) {
    Object.assign(rec, { ok: false, end: Date.now(), code: e.code ?? "CRASH", message: String(e.message).slice(0, 200) });
  }
  process.stdout.write(JSON.stringify(rec) + "\n");
  return rec;
}

let n = 0;
while (!stopping) {
  n++;
  const r = rand();
  if (r < 0.08) {
    const key = `${agent}-${n}`;
    const items = [{ title: `made by ${key} a` }, { title: `made by ${key} b` }];
    const first = await op("create", { key, count: 2 }, async () => ({ ids: (await ledger.create({ project, agent, items, idempotency_key: key })).map((w) => w.id) }));
    if (pick(0.5) || !first.ok)
      await op("create", { key, count: 2, retry: true }, async () => ({ ids: (await ledger.create({ project, agent, items, idempotency_key: key })).map((w) => w.id) }));
    continue;
  }
  if (r < 0.14) {
    await op("context_put", {}, async () => ({ id: (await ledger.contextPut({ project, agent, body: `context from ${agent} #${n}` })).id }));
    continue;
  }
  const claim = await op("claim", {}, async () => {
    const wo = await ledger.claim({ project, agent, next: true, ttl });
    return { wo: wo.id, token: wo.lease.token, expires_at: wo.lease.expires_at };
  });
  if (!claim.ok) {
    await sleep(claim.code === "NOTHING_TO_CLAIM" ? 200 : 20);
    continue;
  }
  const { wo, token } = claim;
  if (pick(0.3)) await op("note", { wo }, async () => ({ id: (await ledger.addNote({ project, agent, id: wo, body: `progress by ${agent} #${n}` })).id }));
  if (pick(0.3)) await op("renew", { wo, token }, async () => ({ expires_at: (await ledger.renew({ project, agent, id: wo, ttl, lease_token: token })).lease.expires_at }));
  // Sometimes work past the TTL: the finishing write must then be refused (stale token or lease lost).
  if (pick(0.1)) await sleep(2600);
  const end = rand();
  if (end < 0.65) await op("done", { wo, token }, async () => ({ status: (await ledger.update({ project, agent, id: wo, status: "done", lease_token: token })).status }));
  else if (end < 0.9) await op("release", { wo, token }, async () => ({ status: (await ledger.release({ project, agent, id: wo, lease_token: token })).status }));
  // else: walk away and let the lease expire
}
await ledger.close();
