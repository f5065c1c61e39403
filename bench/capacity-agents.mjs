// The agents of bench/capacity.ts, in a process of their own: each one loops
// claim --next (a short TTL), add-note, renew, update --status done, with think
// time between calls, through `serve` over HTTP keep-alive, until the time is
// up. Prints each operation's latencies (ms) as JSON.
import { RemoteLedger } from "../dist/index.js";

const { urls, tokens, project, seconds, thinkMs } = JSON.parse(process.argv[2]);
const until = Date.now() + seconds * 1000;
const ms = { claim: [], note: [], renew: [], done: [] };
const errors = [];
const sleep = (t) => new Promise((r) => setTimeout(r, t));

async function timed(op, call) {
  const t = performance.now();
  const out = await call();
  ms[op].push(performance.now() - t);
  return out;
}

async function agent(i) {
  const ledger = new RemoteLedger(urls[i % urls.length], tokens[i]);
  await sleep(Math.random() * thinkMs * 4); // agents start spread out, as real ones do
  while (Date.now() < until) {
    let wo;
    try {
      wo = await timed("claim", () => ledger.claim({ project, next: true, ttl: "3s" }));
    } catch (e) {
      if (e.code !== "NOTHING_TO_CLAIM") errors.push(`${e.code}: ${e.message}`);
      await sleep(thinkMs);
      continue;
    }
    try {
      await sleep(thinkMs);
      await timed("note", () => ledger.addNote({ project, id: wo.id, body: "halfway" }));
      await sleep(thinkMs);
      await timed("renew", () => ledger.renew({ project, id: wo.id }));
      await sleep(thinkMs);
      await timed("done", () => ledger.update({ project, id: wo.id, status: "done" }));
    } catch (e) {
      errors.push(`${e.code}: ${e.message}`);
    }
    await sleep(thinkMs);
  }
}

await Promise.all(tokens.map((_, i) => agent(i)));
process.stdout.write(JSON.stringify({ ms, errors: errors.slice(0, 5), errorCount: errors.length }));
