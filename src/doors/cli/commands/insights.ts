/** attention, agents and flow: what needs a human, who is at work, and how work flows (the dashboard's panels, in a terminal). */
import type { Command } from "commander";
import type { Attention, Roster } from "../../../core/insights.js";
import type { Flow } from "../../../core/flow.js";
import { formatDuration } from "../../../core/duration.js";
import { formatUsd } from "../../../core/pricing.js";
import { c, relative, shown, table } from "../output.js";
import { registerOperation } from "../operation.js";

const ACTION: Record<Attention["items"][number]["action"], string> = {
  reopen: "an admin reopens it (update --status open --as-admin)",
  raise_cap: "an admin raises its cap (update --max-attempts/--max-usd --as-admin), then reopens it",
  look: "look at it (get, history)",
};

function attentionText(a: Attention): string {
  if (a.items.length === 0) return c.green(`nothing needs a human in ${a.project} (since ${a.since})`);
  return a.items
    .map(
      (i) =>
        `${c.bold(i.kind)} ${i.id === null ? "" : `WO-${i.id} `}${i.title ? `${shown(i.title)} ` : ""}${c.dim(relative(i.at))}\n  ${shown(i.detail)}\n  ${c.dim(ACTION[i.action])}`,
    )
    .join("\n");
}

function rosterText(r: Roster): string {
  if (r.agents.length === 0) return c.dim(`no agent seen in ${r.project} since ${r.since}`);
  return table([
    ["agent", "last seen", "holding", "attempts", "done", "lost", "spend", ""],
    ...r.agents.map((a) => [
      a.agent,
      a.last_at ? relative(a.last_at) : "-",
      a.holding.map((h) => `WO-${h.id}`).join(" ") || "-",
      String(a.attempts),
      String(a.done),
      String(a.lost),
      formatUsd(a.spend_usd),
      a.gone ? c.dim("gone") : "",
    ]),
  ]);
}

function flowText(f: Flow): string {
  const lead = (ms: number | null) => (ms === null ? "-" : formatDuration(ms));
  const rows = table([
    ["from", "created", "claimed", "done", "expired", "queue"],
    ...f.points.map((p) => [p.at.slice(0, 16).replace("T", " "), ...[p.created, p.claimed, p.done, p.expired, p.queue].map(String)]),
  ]);
  const spend = f.spend.length ? `\n${table([["agent", "phase", "spend", "tokens"], ...f.spend.map((s) => [s.agent, s.phase, formatUsd(s.usd), String(s.tokens)])])}` : "";
  return (
    `${rows}\n${c.dim(`queue at the start ${f.queue_at_start}; ${f.done.count} done, created to done median ${lead(f.done.median_ms)}, p90 ${lead(f.done.p90_ms)}${f.truncated ? `; only up to ${f.until}` : ""}`)}` +
    spend
  );
}

export function register(program: Command): void {
  registerOperation<Attention>(program, {
    op: "attention",
    description: "what needs a human: dead-lettered and blocked work, failed verifications, agents that keep losing leases, writes refused after a lease ended",
    flags: { since: { help: "window for the events (default 7d)", flag: "--since <duration>" } },
    render: (a) => ({ human: () => attentionText(a) }),
  });
  registerOperation<Roster>(program, {
    op: "agents",
    description: "every agent seen in a window: last activity, leases held now, attempts, done, lost, spend, and whether it is gone",
    flags: { since: { help: "window (default 24h)", flag: "--since <duration>" } },
    render: (r) => ({ human: () => rosterText(r) }),
  });
  registerOperation<Flow>(program, {
    op: "flow",
    description:
      "flow over a window: created, claimed, done and expired per interval, the queue (open, unclaimed) at each interval's end, time from created to done, spend by agent and phase",
    flags: {
      since: { help: "window (default 24h)", flag: "--since <duration>" },
      buckets: { help: "intervals in the window (default 24, at most 200)", flag: "--buckets <n>", number: true },
    },
    render: (f) => ({ human: () => flowText(f) }),
  });
}
