/**
 * The dashboard in a real browser against a real `serve` process, with the
 * CLI acting as the agents: live updates over SSE, lease expiry without a
 * reload, admin actions through the API, reader tokens, edit conflicts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { ARTIFACTS, launchBrowser } from "../helpers/browser.ts";
import { sandbox, type Sandbox } from "../helpers/cli.ts";
import { serve, type ServeProcess } from "../helpers/serve.ts";

const browser: Browser | null = await launchBrowser("dashboard");

describe("web dashboard", { skip: browser === null }, () => {
  let sb: Sandbox;
  let server: ServeProcess;
  const tokens: Record<string, string> = {};
  const cli = (args: string[]) => sb.spawn(["-p", "ancc", "--json", ...args]);
  const column = (status: string, id: number) => `section[data-column="${status}"] .card[data-wo="${id}"]`;

  async function open(token: string, hash = "", viewport = { width: 1400, height: 900 }): Promise<Page> {
    const page = await browser!.newPage({ viewport });
    page.on("pageerror", (e) => assert.fail(`page error: ${e.message}`));
    await page.goto(`${server.url}/${hash}`);
    await page.fill("#token", token);
    await page.click("form.signin button[type=submit]");
    await page.locator('[data-testid="whoami"]').waitFor();
    return page;
  }
  /** A value kept on `window`: still there afterwards means the page was never reloaded. */
  // (Page scripts as strings: the tests are type-checked without the DOM library.)
  const mark = (page: Page) => page.evaluate("window.mark = 42");
  const marked = async (page: Page) => (await page.evaluate("window.mark")) === 42;

  before(async () => {
    sb = sandbox();
    for (const [agent, role] of [
      ["alice", "admin"],
      ["bob", "admin"],
      ["rita", "reader"],
    ] as const) {
      tokens[agent] = sb.run(["token", "create", "--as-admin", "--agent", agent, "--role", role, "--json"]).json.token;
    }
    const items = [
      {
        title: "Fix tokenizer crash on empty input",
        priority: "P1",
        labels: ["bug"],
        files: ["src/tokenizer/**"],
        acceptance: ["empty input returns []", "no crash at EOF"],
        verification: "npm test -- tokenizer",
      },
      { title: "Add streaming parser", labels: ["feature"], depends_on: [1] },
      { title: "Document the API", priority: "P3", labels: ["docs"] },
      { title: "Flaky CI on arm64", priority: "P0", labels: ["ci"] },
    ];
    // One at a time: a batch cannot depend on a WO it creates itself.
    for (const item of items) assert.equal(sb.run(["-p", "ancc", "--agent", "observer", "create", "--from", "-", "--json"], { input: JSON.stringify([item]) }).code, 0);
    server = await serve(sb.env);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    sb?.cleanup();
  });

  it("signs in with a token kept in the tab's session, never in the URL, and refuses a bad one", async () => {
    const page = await browser!.newPage();
    await page.goto(`${server.url}/#/p/ancc`);
    await page.fill("#token", "wl_000000000000_nope");
    await page.click("form.signin button[type=submit]");
    await page.getByText("That token is unknown or revoked.").waitFor();
    await page.fill("#token", tokens.alice!);
    await page.click("form.signin button[type=submit]");
    await page.locator(column("open", 1)).waitFor();
    assert.ok(!page.url().includes("wl_"), page.url());
    assert.equal(await page.evaluate('sessionStorage.getItem("workledger.token")'), tokens.alice);
    await page.close();
  });

  it("with one project, the landing page opens its board (issue 28)", async () => {
    const page = await open(tokens.alice!, "");
    await page.locator(column("open", 1)).waitFor();
    assert.match(page.url(), /#\/p\/ancc$/);
    await page.close();
  });

  it("shows the board: four columns, cards with id, title, priority and labels, and the overview", async () => {
    const page = await open(tokens.alice!, "#/p/ancc");
    await page.locator(column("open", 1)).waitFor();
    assert.deepEqual(await page.locator("section[data-column]").evaluateAll((els) => els.map((e) => e.getAttribute("data-column"))), ["open", "claimed", "blocked", "done"]);
    const text = await page.locator(column("open", 1)).innerText();
    for (const s of ["WO-1", "Fix tokenizer crash on empty input", "P1", "bug"]) assert.ok(text.includes(s), text);
    // Most urgent first within a column.
    assert.deepEqual(await page.locator('section[data-column="open"] .card').evaluateAll((els) => els.map((e) => e.getAttribute("data-wo"))), ["4", "1", "2", "3"]);
    assert.equal(await page.locator('[data-count="open"]').innerText(), "4");
    await page.locator(".feed li", { hasText: "observer created" }).first().waitFor();
    await page.close();
  });

  it("shows a claim made through the CLI within 2 s, without a reload, with the agent and a countdown", async () => {
    const page = await open(tokens.alice!, "#/p/ancc");
    await page.locator('.live-status[data-state="live"]').waitFor();
    await mark(page);
    assert.equal((await cli(["--agent", "agent-a", "claim", "--id", "1"])).code, 0);
    const card = page.locator(column("claimed", 1));
    await card.waitFor({ timeout: 2000 });
    assert.match(await card.innerText(), /agent-a · expires in (30m|29m)/);
    await page.locator(".holders", { hasText: "agent-a" }).waitFor();
    await page.locator(".feed li", { hasText: "agent-a claimed" }).waitFor();
    // Context handed over by an agent shows up live, with its age, author and verdict.
    assert.equal((await cli(["--agent", "agent-a", "context-put", "-m", "peek() reads past EOF; fix in progress"])).code, 0);
    const ctx = page.locator('.ctx[data-key="handover"]');
    await ctx.waitFor({ timeout: 2000 });
    assert.match(await ctx.locator("summary").innerText(), /handover\s+fresh\s+\d+s old · agent-a/);
    assert.ok(await marked(page));
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-board.png") });
    await page.close();
  });

  it("moves a card back to open when its short lease expires, without a reload", async () => {
    const page = await open(tokens.alice!, "#/p/ancc");
    await page.locator('.live-status[data-state="live"]').waitFor();
    await mark(page);
    assert.equal((await cli(["--agent", "agent-b", "claim", "--id", "3", "--ttl", "2s"])).code, 0);
    await page.locator(column("claimed", 3)).waitFor({ timeout: 2000 });
    await page.locator(column("open", 3)).waitFor({ timeout: 6000 });
    assert.equal(await page.locator(`${column("open", 3)} .lease`).count(), 0);
    assert.ok(await marked(page));
    await page.close();
  });

  it("shows every field, notes, history with field diffs and dependencies on the WO page", async () => {
    assert.equal((await cli(["--agent", "observer", "update", "--id", "2", "--scope", "parser only", "--acceptance", "streams 1 GB in constant memory"])).code, 0);
    assert.equal((await cli(["--agent", "smart", "add-note", "--id", "2", "--kind", "finding", "-m", "needs the tokenizer fix first"])).code, 0);
    const page = await open(tokens.alice!, "#/p/ancc/wo/2");
    await page.locator("table.diff").waitFor();
    const history = await page.locator(".history").innerText();
    assert.match(history, /observer updated acceptance, scope/);
    assert.match(await page.locator("table.diff").innerText(), /scope\s+parser only/);
    assert.match(await page.locator(".checklist").innerText(), /streams 1 GB in constant memory/);
    assert.match(await page.locator(".timeline").innerText(), /finding\s+smart[\s\S]*needs the tokenizer fix first/);
    assert.match(await page.locator(".deps").innerText(), /WO-1\s+claimed\s+Fix tokenizer crash/);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-wo.png"), fullPage: true });
    await page.close();
  });

  it("creates a WO through the form that `workledger list` then shows", async () => {
    const page = await open(tokens.alice!, "#/p/ancc");
    await page.click("text=New work order");
    await page.fill("#f-title", "Dashboard-made task");
    await page.selectOption("#f-priority", "P1");
    await page.fill("#f-acceptance", "first check\nsecond check");
    await page.fill("#f-files", "docs/**");
    await page.fill("#f-labels", "ui, dash");
    await page.click("form.wo-form button[type=submit]");
    await page.locator("h1", { hasText: "Dashboard-made task" }).waitFor();
    const wo = (await cli(["list"])).json.find((w: { title: string }) => w.title === "Dashboard-made task");
    assert.ok(wo, "created WO missing from list");
    assert.equal(wo.created_by, "alice");
    assert.equal(wo.priority, "P1");
    assert.deepEqual(wo.acceptance, ["first check", "second check"]);
    assert.deepEqual(wo.labels, ["ui", "dash"]);
    assert.deepEqual(wo.files, ["docs/**"]);
    await page.close();
  });

  it("lets a reader see everything and change nothing", async () => {
    const page = await open(tokens.rita!, "#/p/ancc");
    await page.locator(column("claimed", 1)).waitFor();
    assert.equal(await page.getByText("New work order").count(), 0);
    await page.goto(`${server.url}/#/p/ancc/wo/2`);
    await page.locator(".history").waitFor();
    assert.equal(await page.locator("main button, main form, main textarea").count(), 0);
    await page.goto(`${server.url}/#/p/ancc/new`);
    await page.getByText("Only agent and admin tokens can create work orders here").waitFor();
    assert.equal(await page.locator("form.wo-form").count(), 0);
    await page.close();
  });

  it("offers an agent token the same edit controls the API allows it (issue 13)", async () => {
    const t = sb.run(["token", "create", "--as-admin", "--agent", "ada", "--role", "agent", "--json"]).json;
    const page = await open(t.token, "#/p/ancc");
    await page.getByText("New work order").waitFor();
    await page.goto(`${server.url}/#/p/ancc/new`);
    await page.locator("form.wo-form").waitFor();
    await page.close();
  });

  it("takes a token limited to one project straight to its board, and names the view in the title", async () => {
    const t = sb.run(["token", "create", "--as-admin", "--agent", "pat", "--role", "reader", "-p", "ancc", "--json"]).json;
    const page = await open(t.token);
    await page.locator('.card[data-wo="2"]').waitFor();
    assert.equal(await page.title(), "ancc · workledger");
    await page.goto(`${server.url}/#/p/ancc/wo/2`);
    await page.locator(".history").waitFor();
    assert.equal(await page.title(), "WO-2 · ancc · workledger");
    await page.close();
  });

  it("shows a conflict when two people edit the same WO, and keeps the first edit", async () => {
    const [a, b] = [await open(tokens.alice!, "#/p/ancc/wo/4"), await open(tokens.bob!, "#/p/ancc/wo/4")];
    for (const p of [a, b]) {
      await p.locator("[data-revision]").waitFor();
      await p.click("button:text('Edit')");
    }
    await a.fill("#f-scope", "arm64 runners only");
    await a.click("form.wo-form button[type=submit]");
    await a.locator(".page-head h1", { hasText: "Flaky CI on arm64" }).waitFor();
    await b.fill("#f-title", "Bob's title");
    await b.click("form.wo-form button[type=submit]");
    const alert = b.locator('.alert.conflict[data-code="REVISION_MISMATCH"]');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Conflict/);
    await b.screenshot({ path: join(ARTIFACTS, "dashboard-conflict.png") });
    const wo = (await cli(["get", "--id", "4"])).json;
    assert.equal(wo.scope, "arm64 runners only");
    assert.equal(wo.title, "Flaky CI on arm64");
    await a.close();
    await b.close();
  });

  it("refuses to cancel a WO an agent holds, saying who holds it", async () => {
    const page = await open(tokens.alice!, "#/p/ancc/wo/1");
    await page.locator(".lease-row").waitFor();
    page.once("dialog", (d) => void d.accept());
    await page.click("button:text('Cancel work order')");
    const alert = page.locator('.alert.conflict[data-code="LEASE_HELD"]');
    await alert.waitFor();
    assert.match(await alert.innerText(), /agent-a/);
    assert.equal((await cli(["get", "--id", "1"])).json.status, "claimed");
    await page.close();
  });

  it("reopens a blocked WO and cancels another through the API", async () => {
    assert.equal((await cli(["--agent", "agent-c", "claim", "--id", "3"])).code, 0);
    assert.equal((await cli(["--agent", "agent-c", "release", "--id", "3", "--status", "blocked", "--note", "needs a decision"])).code, 0);
    const page = await open(tokens.alice!, "#/p/ancc/wo/3");
    await page.locator('.page-head [data-status="blocked"]').waitFor();
    await page.click("button:text('Reopen')");
    await page.locator('.page-head [data-status="open"]').waitFor();
    page.once("dialog", (d) => void d.accept());
    await page.click("button:text('Cancel work order')");
    await page.locator('.page-head [data-status="cancelled"]').waitFor();
    assert.equal((await cli(["get", "--id", "3"])).json.status, "cancelled");
    // Hidden from the board by default, shown on request.
    await page.goto(`${server.url}/#/p/ancc`);
    await page.locator(column("open", 2)).waitFor();
    assert.equal(await page.locator('.card[data-wo="3"]').count(), 0);
    await page.check('input[name="cancelled"]');
    await page.locator(column("cancelled", 3)).waitFor();
    await page.close();
  });

  it("adds a note from the WO page and reaches a card by keyboard alone", async () => {
    const page = await open(tokens.alice!, "#/p/ancc");
    await page.locator(column("open", 2)).waitFor();
    await page.locator('.live-status[data-state="live"]').waitFor();
    await page.locator(`${column("open", 2)} a`).focus();
    // A live update redraws the board; the focus stays on the card.
    assert.equal((await cli(["--agent", "observer", "update", "--id", "4", "--label", "ci,needs-runner"])).code, 0);
    await page.locator('.card[data-wo="4"]', { hasText: "needs-runner" }).waitFor();
    assert.equal(await page.evaluate("document.activeElement.closest('[data-wo]').dataset.wo"), "2");
    await page.keyboard.press("Enter");
    await page.locator(".history").waitFor();
    assert.match(page.url(), /#\/p\/ancc\/wo\/2$/);
    await page.locator(".facts dd code", { hasText: /^wo\/2-/ }).waitFor(); // its branch (issue 26)
    await page.fill("#note-body", "reviewed by a human: go ahead");
    await page.selectOption("#note-kind", "link");
    await page.click("button:text('Add note')");
    await page.locator(".timeline .k-link", { hasText: "reviewed by a human" }).waitFor();
    const notes = (await cli(["get", "--id", "2"])).json.notes;
    assert.deepEqual(notes.at(-1), { ...notes.at(-1), agent: "alice", kind: "link", body: "reviewed by a human: go ahead" });
    await page.close();
  });

  it("signs out a dashboard whose token is revoked", async () => {
    const t = sb.run(["token", "create", "--as-admin", "--agent", "temp", "--role", "reader", "--json"]).json;
    const page = await open(t.token, "#/p/ancc");
    await page.locator('.live-status[data-state="live"]').waitFor();
    assert.equal(sb.run(["token", "revoke", "--as-admin", t.id]).code, 0);
    await page.getByText("Your token was revoked or is unknown").waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate('sessionStorage.getItem("workledger.token")'), null);
    await page.close();
  });

  it("keeps filters and search in the URL, so a deep link restores the view", async () => {
    const page = await open(tokens.alice!, "#/p/ancc?label=bug");
    await page.locator(column("claimed", 1)).waitFor();
    assert.equal(await page.locator(".card").count(), 1);
    await page.selectOption('select[name="label"]', "");
    await page.fill('input[name="q"]', "stream");
    await page.locator('.card[data-wo="1"]').waitFor({ state: "detached" });
    assert.match(page.url(), /#\/p\/ancc\?q=stream$/);
    await page.reload();
    await page.locator(column("open", 2)).waitFor();
    assert.equal(await page.locator(".card").count(), 1);
    assert.equal(await page.inputValue('input[name="q"]'), "stream");
    await page.close();
  });

  it("shows attempts and spend on cards and the WO page, budget bars that turn red at the cap, and the project's spend per day (issue 16)", async () => {
    const c = (args: string[], agent = "alice") => sb.spawn(["-p", "costs", "--agent", agent, "--json", ...args]);
    assert.equal((await c(["create", "--title", "capped", "--max-usd", "1", "--max-attempts", "3"])).code, 0);
    assert.equal((await c(["create", "--title", "cheap", "--max-usd", "10"])).code, 0);
    const page = await open(tokens.alice!, "#/p/costs");
    await page.locator(column("open", 1)).waitFor();
    // Live: a claim and spend near the cap turn the bar amber, then over it red, without a reload.
    assert.equal((await c(["claim", "--id", "1"], "bob")).code, 0);
    assert.equal((await c(["spend", "--id", "1", "--phase", "enrich", "--cost-usd", "0.85"], "bob")).code, 0);
    await page.locator('.card[data-wo="1"] .budget[data-cap="usd"][data-level="near"]').waitFor();
    assert.equal((await c(["spend", "--id", "1", "--phase", "execute", "--cost-usd", "0.30"], "bob")).code, 0);
    await page.locator('.card[data-wo="1"] .budget[data-level="over"]').waitFor();
    assert.equal(await page.evaluate(`getComputedStyle(document.querySelector('.card[data-wo="1"] .budget-fill')).backgroundColor`), "rgb(192, 57, 43)", "red at the cap");
    assert.match((await page.locator('.card[data-wo="1"] .usage').textContent()) ?? "", /1 attempt · \$1\.15/);
    assert.equal((await c(["add-note", "--id", "1", "-m", "tried the cache first"], "bob")).code, 0);
    assert.equal((await c(["release", "--id", "1"], "bob")).code, 0);
    await page.locator(column("blocked", 1)).waitFor();
    // The project's spend: a chart per day, by agent or by phase.
    await page.locator('.spend-chart .legend [data-key="bob"]').waitFor();
    assert.ok((await page.locator(".spend-chart svg rect").count()) >= 1);
    await page.selectOption("#spend-by", "phase");
    await page.locator('.spend-chart .legend [data-key="enrich"]').waitFor();
    await page.locator('.spend-chart .legend [data-key="execute"]').waitFor();
    assert.match((await page.locator("[data-totals]").textContent()) ?? "", /\$1\.15 · 1 attempt ·/);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-spend.png") });
    // The WO page: why it left the queue, each attempt with its outcome and cost, and the cap's bar.
    await page.click('.card[data-wo="1"] a');
    await page.locator(".alert.dead-letter").waitFor();
    assert.match((await page.locator(".alert.dead-letter").textContent()) ?? "", /\$1\.15 spent of a \$1\.00 cap/);
    const attempt = page.locator('.attempts .attempt[data-token="1"]');
    await attempt.waitFor();
    assert.equal(await attempt.getAttribute("data-outcome"), "released");
    assert.match((await attempt.textContent()) ?? "", /bob.*\$1\.15/);
    // What the attempt left behind: bob's note made while it ran.
    assert.match((await attempt.locator('.left-behind [data-left="note"]').first().textContent()) ?? "", /tried the cache first/);
    assert.equal(await page.locator('.facts .budget[data-cap="usd"]').getAttribute("data-level"), "over");
    assert.equal(await page.locator('.facts .budget[data-cap="attempts"]').getAttribute("data-level"), "ok");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-attempts.png"), fullPage: true });
    // An admin raises the cap in the edit form: the WO returns to the queue.
    await page.click("button:text('Edit')");
    assert.equal(await page.inputValue("#f-max_usd"), "1");
    await page.fill("#f-max_usd", "5");
    await page.click("button:text('Save')");
    await page.locator(".alert.dead-letter").waitFor({ state: "detached" });
    await page.locator('.page-head .badge[data-status="open"]').waitFor();
    assert.equal((await c(["get", "--id", "1"])).json.max_usd, 5);
    await page.close();
  });

  it("shows each card's stage and what it requires, and filters the board by them (issue 25)", async () => {
    const run = (args: string[]) => assert.equal(sb.run(["-p", "pipe", "--agent", "observer", ...args]).code, 0, args.join(" "));
    run(["project", "create", "pipe"]);
    run(["project", "set", "pipe", "--as-admin", "--stages", "enrich,ready"]);
    run(["create", "--title", "Rough idea"]);
    run(["create", "--title", "Schema change", "--stage", "ready", "--requires", "db"]);
    const page = await open(tokens.alice!, "#/p/pipe");
    await page.locator(column("open", 2)).waitFor();
    assert.match(await page.locator(column("open", 2)).innerText(), /ready[\s\S]*needs db/);
    assert.match(await page.locator(column("open", 1)).innerText(), /enrich/);
    await page.selectOption("select[name=stage]", "ready");
    await page.locator(column("open", 1)).waitFor({ state: "detached" });
    assert.match(page.url(), /#\/p\/pipe\?stage=ready$/);
    await page.selectOption("select[name=stage]", "");
    await page.selectOption("select[name=requires]", "db");
    await page.locator(column("open", 1)).waitFor({ state: "detached" });
    assert.equal(await page.locator('section[data-column="open"] .card').count(), 1);
    await page.goto(`${server.url}/#/p/pipe/wo/2`);
    await page.locator(".page-head .badge.stage", { hasText: "ready" }).waitFor();
    await page.close();
  });

  it("puts what needs a human first, with a one-click reopen for admins, lists the agents at work, and sums both per project on the landing page (issue 28)", async () => {
    const id = (await cli(["--agent", "observer", "create", "--title", "Needs the staging password"])).json.id as number;
    assert.equal((await cli(["--agent", "agent-d", "claim", "--id", String(id)])).code, 0);
    assert.equal((await cli(["--agent", "agent-d", "release", "--id", String(id), "--status", "blocked", "--note", "the staging password expired"])).code, 0);
    const page = await open(tokens.alice!, "#/p/ancc");
    const item = page.locator(`.needs-human li[data-kind="blocked"][data-wo="${id}"]`);
    await item.waitFor();
    assert.match(await item.innerText(), /the staging password expired/);
    await page.locator('.roster li[data-agent="agent-d"]').waitFor();
    assert.match(await page.locator('.roster li[data-agent="agent-d"]').innerText(), /holds nothing[\s\S]*1 attempts · 0 done · 0 lost/);
    await item.locator("button", { hasText: "Reopen" }).click();
    await item.waitFor({ state: "detached" });
    assert.equal((await cli(["get", "--id", String(id)])).json.status, "open");
    // A reader sees the panel but no button.
    assert.equal((await cli(["--agent", "agent-d", "claim", "--id", String(id)])).code, 0);
    assert.equal((await cli(["--agent", "agent-d", "release", "--id", String(id), "--status", "blocked", "--note", "again"])).code, 0);
    const reader = await open(tokens.rita!, "#/p/ancc");
    await reader.locator(`.needs-human li[data-wo="${id}"]`).waitFor();
    assert.equal(await reader.locator(".needs-human button").count(), 0);
    // The landing page lists the projects (all of them, even one, with ?all=1), each with what needs a human and the agents at work.
    await reader.goto(`${server.url}/#/?all=1`);
    const ancc = reader.locator('li[data-project="ancc"] .health');
    await ancc.locator("[data-needs]").waitFor();
    assert.match(await ancc.innerText(), /need.* a human · \d+ agents? at work · \d+ done in 24h/);
    await ancc.locator("svg.flow-chart").waitFor();
    // The dependency graph: WO-2 waits for WO-1; what is outlined as ready is what find-unclaimed returns.
    await page.click(".dependency-graph summary");
    await page.locator('.graph a[data-wo="2"]').waitFor();
    const shown = await page.locator(".graph a[data-wo]").evaluateAll((els) => els.map((e) => [e.getAttribute("data-wo"), e.hasAttribute("data-ready")]));
    const free = new Set(((await cli(["find-unclaimed", "--limit", "1000"])).json as { id: number }[]).map((w) => String(w.id)));
    assert.ok(shown.some(([wo]) => wo === "1"));
    for (const [wo, ready] of shown) assert.equal(ready, free.has(wo!), `WO-${wo}`);
    // The lease timeline: agent-d's two leases on the blocked WO are bars on its lane.
    await page.click(".lease-timeline summary");
    await page.locator(`.lease-timeline a[data-wo="${id}"][data-agent="agent-d"]`).first().waitFor();
    assert.ok((await page.locator(`.lease-timeline a[data-wo="${id}"]`).count()) >= 2);
    // Flow: the queue line is the one the flow API replays, and the day's done work is counted.
    await page.click(".flow-panel summary");
    const line = page.locator(".flow-panel polyline.queue");
    await line.waitFor();
    const flow = (await cli(["flow", "--since", "24h", "--buckets", "24"])).json as { points: { queue: number }[]; done: { count: number } };
    assert.equal(await line.getAttribute("data-queue"), flow.points.map((p) => p.queue).join(","));
    assert.match(await page.locator("[data-flow-summary]").innerText(), new RegExp(`^${flow.done.count} done; created to done: median`));
    // The WO page shows what was handed over about it (before, only an event line said some existed).
    assert.equal((await cli(["--agent", "agent-d", "context-put", "--id", String(id), "-m", "the password lives in the team vault"])).code, 0);
    await page.goto(`${server.url}/#/p/ancc/wo/${id}`);
    const ctx = page.locator('.wo-context .ctx[data-key="handover"]');
    await ctx.waitFor();
    await ctx.locator("summary").click();
    assert.match(await ctx.innerText(), /the password lives in the team vault/);
    await page.close();
    await reader.close();
  });

  it("draws at most 100 cards a column until asked for the rest (issue 28: views stay responsive with many work orders)", async () => {
    const items = JSON.stringify(Array.from({ length: 105 }, (_, i) => ({ title: `bulk ${i + 1}` })));
    assert.equal(sb.run(["-p", "many", "--agent", "observer", "create", "--from", "-", "--new-project"], { input: items }).code, 0);
    const page = await open(tokens.alice!, "#/p/many");
    const open_ = page.locator('section[data-column="open"]');
    await open_.locator(".card").first().waitFor();
    assert.equal(await open_.locator(".card").count(), 100);
    assert.match(await open_.locator("h2").innerText(), /open\s+105/i);
    await open_.locator("button.more", { hasText: "show all 105 (5 more)" }).click();
    await open_.locator('.card[data-wo="105"]').waitFor();
    assert.equal(await open_.locator(".card").count(), 105);
    await page.close();
  });

  it("is readable at phone width: no sideways scrolling", async () => {
    const page = await open(tokens.alice!, "#/p/ancc", { width: 390, height: 844 });
    await page.locator(column("claimed", 1)).waitFor();
    assert.equal(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), true);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    await page.close();
  });
});
