/**
 * The dashboard with many (issue 28 item 7): a seeded SQLite ledger of
 * 10,000 work orders, 200 agents and about 100,000 events, served by a real
 * `serve`, opened in Chromium. Per view: first contentful paint and time to
 * interact (the view's content drawn, from navigation start or from the click
 * that opens a panel), against the same views on a small ledger (100 work
 * orders, 5 agents) measured in the same run.
 */
import type { Browser, Page } from "playwright-core";
import { openLedger } from "../src/index.ts";
import type { Ledger } from "../src/core/ledger.ts";
import { launchBrowser } from "../test/helpers/browser.ts";
import { sandbox } from "../test/helpers/cli.ts";
import { serve } from "../test/helpers/serve.ts";
import { progress } from "./progress.ts";
import type { Row } from "./run.ts";

const P = "big";

export interface Shape {
  wos: number;
  agents: number;
  events: number;
}

/** Work orders (every tenth waits for the one before), then agents claiming, noting and releasing until the events are there. */
export async function seed(l: Ledger, shape: Shape): Promise<void> {
  for (let i = 0; i < shape.wos; i += 500) {
    const items = Array.from({ length: Math.min(500, shape.wos - i) }, (_, j) => ({
      title: `task ${i + j + 1}`,
      priority: (["P0", "P1", "P2", "P3"] as const)[(i + j) % 4],
      labels: [`area-${(i + j) % 7}`],
      // The one before: an earlier item of this batch (#N), or for a batch's first the last one created.
      ...((i + j) % 10 === 9 ? { depends_on: [j === 0 ? i : `#${j}`] } : {}),
    }));
    await l.create({ project: P, agent: "planner", ...(i === 0 ? { new_project: true } : {}), items } as never);
  }
  const agents = Array.from({ length: shape.agents }, (_, i) => `agent-${i}`);
  let events = (await l.lastEventSeq(P)) as number;
  let said = 0;
  for (let round = 0; events < shape.events; round++) {
    for (const agent of agents) {
      const wo = await l.claim({ project: P, agent, next: true } as never).catch(() => null);
      if (wo === null) continue;
      await l.addNote({ project: P, agent, id: wo.id, body: `round ${round}: looked at it` } as never);
      const r = (wo.id + round) % 5;
      // Most go back to the queue, some are finished or blocked; the last round's claims stay held.
      await l.release({ project: P, agent, id: wo.id, ...(r === 0 ? { status: "done" } : r === 1 ? { status: "blocked", note: "waits for a person" } : {}) } as never);
      events += 3;
      if (events >= shape.events) break;
    }
    if (events - said >= shape.events / 10) progress(`    seeded ${(said = events)} events`);
  }
  for (const agent of agents) await l.claim({ project: P, agent, next: true } as never).catch(() => null);
}

interface Timing {
  paint: number;
  interactive: number;
}

/** Navigates to `hash` with the token in the tab's session, and times the view until `ready` matches. */
async function timeView(browser: Browser, url: string, token: string, hash: string, ready: string): Promise<Timing> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.addInitScript(`sessionStorage.setItem("workledger.token", ${JSON.stringify(token)})`);
  await page.goto(`${url}/${hash}`);
  await page.locator(ready).first().waitFor({ timeout: 120_000 });
  const t = (await page.evaluate(`({ now: performance.now(), paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1 })`)) as {
    now: number;
    paint: number;
  };
  await page.close();
  return { paint: t.paint, interactive: t.now };
}

/** Opens a panel on the board and times it from the click until `ready` matches. */
async function timePanel(page: Page, summary: string, ready: string): Promise<number> {
  const start = Date.now();
  await page.click(summary);
  await page.locator(ready).first().waitFor({ timeout: 120_000 });
  return Date.now() - start;
}

async function measure(browser: Browser, shape: Shape, quick: boolean): Promise<Record<string, number>> {
  const sb = sandbox();
  const l = await openLedger({ db: sb.db });
  progress(`  seeding ${shape.wos} work orders, ${shape.agents} agents, ${shape.events} events`);
  await seed(l, shape);
  await l.close();
  const token = sb.run(["token", "create", "--as-admin", "--agent", "watcher", "--role", "admin", "--json"]).json.token as string;
  const server = await serve(sb.env);
  try {
    const out: Record<string, number> = {};
    const views: [string, string, string][] = [
      ["board", `#/p/${P}`, ".board .card"],
      ["landing", "#/?all=1", ".health svg.flow-chart"],
      ["work order page", `#/p/${P}/wo/${Math.ceil(shape.wos / 2)}`, ".page-head[data-wo]"],
    ];
    for (const [name, hash, ready] of views) {
      const runs: Timing[] = [];
      for (let i = 0; i < (quick ? 1 : 3); i++) runs.push(await timeView(browser, server.url, token, hash, ready));
      const best = (k: keyof Timing) => Math.min(...runs.map((r) => r[k]));
      out[`${name}: first paint`] = best("paint");
      out[`${name}: time to interact`] = best("interactive");
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(`sessionStorage.setItem("workledger.token", ${JSON.stringify(token)})`);
    await page.goto(`${server.url}/#/p/${P}`);
    await page.locator(".board .card").first().waitFor({ timeout: 120_000 });
    out["lease timeline (24h): open"] = await timePanel(page, ".lease-timeline summary", ".lease-timeline svg, .lease-timeline p.muted");
    out["flow (24h): open"] = await timePanel(page, ".flow-panel summary", ".flow-panel polyline.queue");
    out["dependency graph: open"] = await timePanel(page, ".dependency-graph summary", ".dependency-graph svg");
    await page.close();
    return out;
  } finally {
    await server.stop();
    sb.cleanup();
  }
}

export async function dashboardScale(quick: boolean): Promise<Row[]> {
  const browser = await launchBrowser("dashboard bench");
  if (browser === null) return [];
  try {
    const small: Shape = { wos: 100, agents: 5, events: 1000 };
    const big: Shape = quick ? { wos: 300, agents: 10, events: 2000 } : { wos: 10_000, agents: 200, events: 100_000 };
    progress("  small ledger (the baseline)");
    const base = await measure(browser, small, quick);
    progress(`  ${big.wos} work orders`);
    const many = await measure(browser, big, quick);
    return Object.entries(many).map(([figure, value]) => ({
      figure: `dashboard ${figure}, ${big.wos.toLocaleString("en")} WOs / ${big.agents} agents / ${big.events.toLocaleString("en")} events`,
      value,
      unit: "ms",
      baseline: `${small.wos} WOs / ${small.agents} agents`,
      baselineValue: base[figure]!,
      ratio: value / Math.max(1, base[figure]!),
      target: "≤ 1000 ms",
      pass: value <= 1000,
    }));
  } finally {
    await browser.close();
  }
}
