/**
 * What a person watching a fleet of agents asks first (issue 28): what needs
 * a human (work no agent will fix), and which agents are alive and what they
 * hold. Built here from rows the store reads (service/insights.ts); no I/O.
 */
import { toUsd } from "./pricing.js";
import type { LedgerEvent, Note, StoredWorkOrder } from "./types.js";
import { label } from "./types.js";

/** Why a person should look, most urgent kinds first. */
export const ATTENTION_KINDS = ["dead_letter", "verification_failed", "blocked", "lease_losses", "write_refused"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/**
 * One thing that needs a human: about a WO (`id`) or an agent, what happened
 * (`detail`), and what a person does (`action`: `reopen` is one admin click;
 * `raise_cap`, a dead-lettered WO's caps, which reopening alone cannot
 * pass; `look`, the WO or the agent's history).
 */
export interface AttentionItem {
  kind: AttentionKind;
  id: number | null;
  title: string | null;
  agent: string | null;
  at: string;
  detail: string;
  count: number;
  action: "reopen" | "raise_cap" | "look";
}

export interface Attention {
  project: string;
  since: string;
  items: AttentionItem[];
}

/** Agents that lost this many leases in the window are named: once is a crash, twice is a pattern. */
export const LOSSES_NAMED = 2;
/** A blocker note is shown this long. */
const EXCERPT = 300;

const excerpt = (s: string) => (s.length > EXCERPT ? `${s.slice(0, EXCERPT - 1)}…` : s);

export interface AttentionRows {
  /** Blocked WOs (dead-lettered ones among them), each with its notes' newest blocker, if any. */
  blocked: { wo: StoredWorkOrder; blocker: Note | undefined }[];
  /** Unfinished WOs whose newest verification failed. */
  failing: StoredWorkOrder[];
  /** The window's expired leases and refused writes. */
  events: LedgerEvent[];
}

export function buildAttention(project: string, since: string, rows: AttentionRows): Attention {
  const items: AttentionItem[] = [];
  for (const { wo, blocker } of rows.blocked) {
    const base = { id: wo.id, title: wo.title, at: wo.updated_at, count: 1 };
    if (wo.dead_letter) items.push({ ...base, kind: "dead_letter", agent: null, detail: `dead-lettered: ${wo.dead_letter}`, action: "raise_cap" });
    else items.push({ ...base, kind: "blocked", agent: blocker?.agent ?? null, detail: blocker ? excerpt(blocker.body) : "blocked, with no blocker note", action: "reopen" });
  }
  for (const wo of rows.failing) {
    const v = wo.last_verification!;
    items.push({
      kind: "verification_failed",
      id: wo.id,
      title: wo.title,
      agent: v.agent,
      at: v.at,
      detail: `${label(wo.id)}'s verification FAILED (${wo.status})`,
      count: 1,
      action: "look",
    });
  }
  const losses = new Map<string, LedgerEvent[]>();
  const refused = new Map<string, LedgerEvent[]>();
  for (const e of rows.events) {
    const into = e.type === "expired" ? losses : e.type === "write_refused" ? refused : null;
    const key = e.type === "expired" ? e.agent : `${e.agent}\u0000${e.wo}`;
    if (into) into.set(key, [...(into.get(key) ?? []), e]);
  }
  for (const [agent, list] of losses) {
    if (list.length < LOSSES_NAMED) continue;
    const wos = [...new Set(list.map((e) => e.wo))].map((id) => label(id ?? 0));
    items.push({
      kind: "lease_losses",
      id: null,
      title: null,
      agent,
      at: list.at(-1)!.at,
      detail: `${agent} lost ${list.length} leases (${wos.join(", ")})`,
      count: list.length,
      action: "look",
    });
  }
  for (const list of refused.values()) {
    const last = list.at(-1)!;
    const code = String(last.data.code ?? "refused");
    items.push({
      kind: "write_refused",
      id: last.wo,
      title: null,
      agent: last.agent,
      at: last.at,
      detail: `${last.agent} kept writing after its lease ended (${code}, ${list.length}×)`,
      count: list.length,
      action: "look",
    });
  }
  const rank = (k: AttentionKind) => ATTENTION_KINDS.indexOf(k);
  items.sort((a, b) => rank(a.kind) - rank(b.kind) || b.at.localeCompare(a.at));
  return { project, since, items };
}

/** One agent's activity in a project over a window, aggregated by the store (Tx.agentActivity). */
export interface AgentActivity {
  agent: string;
  /** Its newest event (an expiry recorded under its name is not its act); null: none in the window. */
  last_at: string | null;
  events: number;
  /** Attempts it started in the window, and how many of those ended done, or lapsed. */
  attempts: number;
  done: number;
  lost: number;
  spend_micros: number;
  /** The TTL of its last claim in the window (null: none, or not recorded). */
  ttl_ms: number | null;
}

/** One agent seen in the window. */
export interface AgentView {
  agent: string;
  /** Its newest event in the project (null: only attempts or spend from before the window's events). */
  last_at: string | null;
  events: number;
  /** The leases it holds now. */
  holding: { id: number; token: number; expires_at: string }[];
  attempts: number;
  done: number;
  /** Leases that lapsed under it. */
  lost: number;
  spend_usd: number;
  /** No lease held and silent for longer than its last claim's TTL: most likely gone. */
  gone: boolean;
}

export interface Roster {
  project: string;
  since: string;
  agents: AgentView[];
}

/** An agent whose last claim's TTL is not known is taken to use the default (30 minutes). */
const DEFAULT_TTL_MS = 30 * 60_000;

export interface RosterRows {
  activity: AgentActivity[];
  live: StoredWorkOrder[];
}

export function buildRoster(project: string, since: string, now: string, rows: RosterRows): Roster {
  const byAgent = new Map<string, AgentView>();
  const of = (agent: string) => {
    let v = byAgent.get(agent);
    if (!v) byAgent.set(agent, (v = { agent, last_at: null, events: 0, holding: [], attempts: 0, done: 0, lost: 0, spend_usd: 0, gone: false }));
    return v;
  };
  const ttl = new Map<string, number>();
  for (const a of rows.activity) {
    Object.assign(of(a.agent), { last_at: a.last_at, events: a.events, attempts: a.attempts, done: a.done, lost: a.lost, spend_usd: toUsd(a.spend_micros) });
    if (a.ttl_ms) ttl.set(a.agent, a.ttl_ms);
  }
  for (const wo of rows.live) of(wo.lease!.agent).holding.push({ id: wo.id, token: wo.lease!.token, expires_at: wo.lease!.expires_at });
  for (const v of byAgent.values()) {
    const silent = v.last_at === null ? Infinity : Date.parse(now) - Date.parse(v.last_at);
    v.gone = v.holding.length === 0 && silent > (ttl.get(v.agent) ?? DEFAULT_TTL_MS);
  }
  return { project, since, agents: [...byAgent.values()].sort((a, b) => Number(a.gone) - Number(b.gone) || (b.last_at ?? "").localeCompare(a.last_at ?? "")) };
}
