/**
 * What a work order has used against its caps (DESIGN.md §10): a bar per cap
 * that turns amber near it and red at it, the attempts timeline of the WO
 * page, and the project's spend per day as a stacked bar chart (inline SVG).
 */
import { h, woRef } from "./dom.js";
import { ago } from "./time.js";
import { formatDuration } from "../../../core/duration.js";
import { formatTokens as tokens, formatUsd } from "../../../core/pricing.js";
import type { Attempt, Checkpoint, Note, SpendTotals, WorkOrder } from "../../../core/types.js";

type LeftBehind = { notes: Note[]; checkpoints: Checkpoint[] };

/** Near a cap from this share on (amber), at it from 1 (red). */
export const NEAR = 0.8;

export const usd = formatUsd;

export interface Cap {
  name: "attempts" | "usd" | "tokens";
  used: number;
  cap: number;
  text: string;
}

/** Every cap the WO has, with how much of it is used. */
export function caps(wo: WorkOrder): Cap[] {
  const out: Cap[] = [];
  const used = wo.spend.tokens_in + wo.spend.tokens_out;
  if (wo.max_attempts !== null) out.push({ name: "attempts", used: wo.attempts, cap: wo.max_attempts, text: `${wo.attempts}/${wo.max_attempts} attempts` });
  if (wo.max_usd !== null) out.push({ name: "usd", used: wo.spend.usd, cap: wo.max_usd, text: `${usd(wo.spend.usd)}/${usd(wo.max_usd)}` });
  if (wo.max_tokens !== null) out.push({ name: "tokens", used, cap: wo.max_tokens, text: `${tokens(used)}/${tokens(wo.max_tokens)} tokens` });
  return out;
}

export const level = (share: number): "ok" | "near" | "over" => (share >= 1 ? "over" : share >= NEAR ? "near" : "ok");

/** One cap as a labelled bar (a <meter> would not turn red at the cap in every browser). */
export function bar(c: Cap): HTMLElement {
  const share = c.cap > 0 ? c.used / c.cap : 1;
  const fill = h("span", { class: "budget-fill" });
  // Through the CSSOM: the page's CSP refuses style attributes.
  fill.style.width = `${Math.min(100, Math.round(share * 100))}%`;
  return h(
    "div",
    { class: `budget ${level(share)}`, "data-cap": c.name, "data-level": level(share), title: `${c.text} (${Math.round(share * 100)}% of the cap)` },
    h("span", { class: "budget-track", "aria-hidden": "true" }, fill),
    h("span", { class: "budget-text" }, c.text),
  );
}

/** The card's line: attempts and spend so far, and the bar of the cap nearest to being reached. */
export function cardUsage(wo: WorkOrder): HTMLElement | null {
  const list = caps(wo);
  if (wo.attempts === 0 && wo.spend.usd === 0 && !list.length) return null;
  const tightest = list.sort((a, b) => b.used / b.cap - a.used / a.cap)[0];
  return h(
    "div",
    { class: "usage", "data-usage": wo.id },
    h("span", { class: "muted" }, `${wo.attempts} attempt${wo.attempts === 1 ? "" : "s"} · ${usd(wo.spend.usd)}${wo.spend.unpriced ? "+?" : ""}`),
    tightest ? bar(tightest) : null,
  );
}

export type AttemptView = Attempt & { duration_ms: number | null; spend: SpendTotals };

/** The WO page's attempts: one line each, oldest first, with outcome and cost, and what each left behind (its notes and checkpoints). */
export function attemptTimeline(list: readonly AttemptView[], left: ReadonlyMap<number, LeftBehind> = new Map()): HTMLElement {
  if (!list.length) return h("p", { class: "muted" }, "No attempts yet.");
  return h(
    "ol",
    { class: "attempts" },
    list.map((a) =>
      h(
        "li",
        { class: `attempt o-${a.outcome ?? "running"}`, "data-token": a.token, "data-outcome": a.outcome ?? "running" },
        h("strong", {}, `#${a.token}`),
        " ",
        a.agent,
        " ",
        h("time", { datetime: a.started_at, title: a.started_at }, ago(a.started_at)),
        " · ",
        a.duration_ms === null ? "running" : formatDuration(a.duration_ms),
        " ",
        h("span", { class: "badge" }, a.outcome ?? "running"),
        " ",
        h("span", { class: "cost" }, `${usd(a.spend.usd)}${a.spend.unpriced ? "+?" : ""} · ${tokens(a.spend.tokens_in + a.spend.tokens_out)} tokens`),
        leftList(left.get(a.token)),
      ),
    ),
  );
}

function leftList(left: LeftBehind | undefined): HTMLElement | null {
  if (!left || left.notes.length + left.checkpoints.length === 0) return null;
  const items = [
    ...left.notes.map((n) => ({ at: n.created_at, el: h("li", { "data-left": "note" }, h("span", { class: "badge" }, n.kind), " ", oneLine(n.body)) })),
    ...left.checkpoints.map((k) => ({ at: k.at, el: h("li", { "data-left": "checkpoint" }, h("code", {}, k.commit.slice(0, 12)), " ", oneLine(k.message)) })),
  ].sort((x, y) => x.at.localeCompare(y.at));
  return h(
    "ul",
    { class: "left-behind" },
    items.map((i) => i.el),
  );
}

const oneLine = (s: string) => (s.length > 160 ? `${s.slice(0, 159)}…` : s).replace(/\s+/g, " ");

/** The WO page's facts about its budget: each cap's bar, and why it is dead-lettered. */
export function budgetFacts(wo: WorkOrder): HTMLElement[] {
  const list = caps(wo);
  return [
    h("dt", {}, "Spend"),
    h(
      "dd",
      { "data-spend": "" },
      `${usd(wo.spend.usd)}${wo.spend.unpriced ? ` (+${wo.spend.unpriced} unpriced)` : ""} · ${tokens(wo.spend.tokens_in)} in / ${tokens(wo.spend.tokens_out)} out`,
    ),
    h("dt", {}, "Budget"),
    h("dd", {}, list.length ? list.map(bar) : "no caps"),
  ];
}

export const deadLetter = (wo: WorkOrder): HTMLElement | null =>
  wo.dead_letter
    ? h(
        "div",
        { class: "alert dead-letter", role: "status" },
        `${woRef(wo.id)} is out of the queue: its budget is used up (${wo.dead_letter}). An admin can raise the cap to return it.`,
      )
    : null;

const PALETTE = ["#2f6fbf", "#c0392b", "#2e7d32", "#7a4fbf", "#b45309", "#0e7490", "#be185d", "#4d7c0f"];

/** Spend per day, stacked by group, as an SVG bar chart with a legend; days without spend are drawn empty. */
export function spendChart(days: readonly { day: string; key: string; usd: number }[], since: string, until: string): HTMLElement {
  const dayList: string[] = [];
  for (let t = Date.parse(since.slice(0, 10)); t <= Date.parse(until); t += 86_400_000) dayList.push(new Date(t).toISOString().slice(0, 10));
  const keys = [...new Set(days.map((d) => d.key))].sort();
  const color = (k: string) => PALETTE[keys.indexOf(k) % PALETTE.length]!;
  const total = (day: string) => days.filter((d) => d.day === day).reduce((n, d) => n + d.usd, 0);
  const max = Math.max(...dayList.map(total), 0);
  const W = 280;
  const H = 120;
  const bw = W / Math.max(dayList.length, 1);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H + 14}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `spend per day, ${usd(days.reduce((n, d) => n + d.usd, 0))} in all`);
  dayList.forEach((day, i) => {
    let y = H;
    for (const k of keys) {
      const v = days.find((d) => d.day === day && d.key === k)?.usd ?? 0;
      if (!v || !max) continue;
      const hgt = (v / max) * (H - 4);
      y -= hgt;
      const r = document.createElementNS(ns, "rect");
      for (const [a, val] of Object.entries({ x: i * bw + 2, y, width: bw - 4, height: hgt, fill: color(k), "data-day": day, "data-key": k })) r.setAttribute(a, String(val));
      const title = document.createElementNS(ns, "title");
      title.textContent = `${day} ${k}: ${usd(v)}`;
      r.appendChild(title);
      svg.appendChild(r);
    }
    const t = document.createElementNS(ns, "text");
    for (const [a, val] of Object.entries({ x: i * bw + bw / 2, y: H + 11, "text-anchor": "middle", "font-size": 8, fill: "currentColor" })) t.setAttribute(a, String(val));
    t.textContent = day.slice(5);
    svg.appendChild(t);
  });
  return h(
    "figure",
    { class: "spend-chart" },
    svg,
    h(
      "figcaption",
      { class: "legend" },
      keys.length
        ? keys.map((k) => {
            const swatch = h("span", { class: "swatch" });
            swatch.style.background = color(k);
            return h("span", { class: "key", "data-key": k }, swatch, k);
          })
        : h("span", { class: "muted" }, "no spend reported"),
    ),
  );
}
