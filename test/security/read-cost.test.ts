/**
 * Issue 24, finding 4: reads are limited by cost. One reader token running
 * four loops of 10,000-row pages on a 20k-WO project pushed /healthz to a
 * 1.2-1.7 s median. Pages are now at most 1,000 rows (with a cursor to page
 * on), and a token pays for the rows it reads next to its requests, so the
 * same four loops leave the server answering others.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, describe, it } from "node:test";
import { openLedger } from "../../src/index.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";
import { sleep } from "../helpers/util.ts";

describe("reads are limited by cost (issue 24, finding 4)", () => {
  let s: Sandbox;
  let server: ServeProcess;
  let reader = "";
  const P = "big";

  before(async () => {
    s = sandbox();
    const ledger = await openLedger({ db: s.db });
    for (let i = 0; i < 20; i++)
      await ledger.create({ project: P, agent: "seed", new_project: true, items: Array.from({ length: 1000 }, (_, j) => ({ title: `wo ${i * 1000 + j}` })) });
    reader = (await ledger.tokens.create({ agent: "looper", role: "reader" }, "admin")).token;
    await ledger.close();
    server = await serve(s.env);
  });
  after(async () => {
    await server?.stop();
    s.cleanup();
  });

  const get = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${reader}` } });

  it("a page is at most 1,000 rows, and after= pages on", async () => {
    const big = await get(`/v1/projects/${P}/wos?status=all&limit=10000`);
    assert.equal(big.status, 400);
    assert.match(((await big.json()) as { error: { message: string } }).error.message, /at most 1000: page on with after/);
    const first = (await (await get(`/v1/projects/${P}/wos?status=all&limit=1000`)).json()) as { id: number }[];
    const second = (await (await get(`/v1/projects/${P}/wos?status=all&limit=1000&after=${first.at(-1)!.id}`)).json()) as { id: number }[];
    assert.deepEqual([first.length, second.length, second[0]!.id], [1000, 1000, 1001]);
  });

  it("four loops of full pages by one token are slowed by their own allowance; /healthz stays fast", { timeout: 60_000 }, async (t) => {
    let stop = false;
    let limited = 0;
    let pages = 0;
    const loop = async () => {
      let after = 0;
      while (!stop) {
        const r = await get(`/v1/projects/${P}/wos?status=all&limit=1000${after ? `&after=${after}` : ""}`);
        if (r.status === 429) {
          limited++;
          await r.body?.cancel();
          await sleep(Number(r.headers.get("retry-after") ?? 1) * 100);
          continue;
        }
        const page = (await r.json()) as { id: number }[];
        pages++;
        after = page.length ? page.at(-1)!.id : 0;
      }
    };
    const health = async () => {
      const times: number[] = [];
      for (let i = 0; i < 40; i++) {
        const t0 = performance.now();
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
        times.push(performance.now() - t0);
        await sleep(50);
      }
      return times.sort((a, b) => a - b);
    };
    // The same probe with nobody reading first: on a machine busy with other work both are slower, and the bound allows for it.
    const quiet = (await health())[20]!;
    const loops = Array.from({ length: 4 }, loop);
    await sleep(1000);
    const times = await health();
    stop = true;
    await Promise.all(loops);
    const p50 = times[20]!;
    t.diagnostic(
      `/healthz p50 ${p50.toFixed(1)} ms (${quiet.toFixed(1)} ms quiet), p90 ${times[36]!.toFixed(1)} ms while 4 loops read ${pages} pages and were refused ${limited} times`,
    );
    assert.ok(limited > 0, "the loops ran into the read allowance");
    // The target is 50 ms (it was 1.2-1.7 s before the limit); on a loaded machine, ten times the quiet figure.
    assert.ok(p50 < Math.max(50, 10 * quiet), `/healthz p50 ${p50.toFixed(1)} ms (quiet: ${quiet.toFixed(1)} ms)`);
  });
});
