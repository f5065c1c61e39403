/**
 * Usage as Claude Code records it: a session transcript (JSONL) whose
 * assistant lines carry `message.usage` (input, cache creation, cache read and
 * output tokens) and `message.model`. A message streamed in several lines
 * repeats its id: each id counts once, with its largest figures. Lines that
 * are not JSON or carry no usage are skipped (the file may be mid-write).
 */
import { readFileSync } from "node:fs";
import type { Usage } from "../core/pricing.js";

export interface TranscriptUsage extends Usage {
  /** When the message was written (ISO-8601). */
  at: string;
  model: string | null;
}

export interface Transcript {
  /** The session's id (from its lines), or null. */
  session: string | null;
  usage: TranscriptUsage[];
}

interface Line {
  type?: unknown;
  sessionId?: unknown;
  timestamp?: unknown;
  message?: { id?: unknown; model?: unknown; usage?: Record<string, unknown> };
}

const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

export function parseTranscript(text: string): Transcript {
  const byId = new Map<string, TranscriptUsage>();
  let session: string | null = null;
  let anonymous = 0;
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if (typeof line !== "object" || line === null) continue;
    if (session === null && typeof line.sessionId === "string") session = line.sessionId;
    const u = line.message?.usage;
    if (line.type !== "assistant" || typeof u !== "object" || u === null) continue;
    const cacheWrite = n(u.cache_creation_input_tokens);
    const cacheRead = n(u.cache_read_input_tokens);
    const entry: TranscriptUsage = {
      at: typeof line.timestamp === "string" && !Number.isNaN(Date.parse(line.timestamp)) ? new Date(line.timestamp).toISOString() : new Date(0).toISOString(),
      model: typeof line.message?.model === "string" && line.message.model !== "<synthetic>" ? line.message.model : null,
      tokens_in: n(u.input_tokens) + cacheWrite + cacheRead,
      tokens_out: n(u.output_tokens),
      cache_read_tokens: cacheRead,
      cache_write_tokens: cacheWrite,
    };
    const id = typeof line.message?.id === "string" ? line.message.id : `#${anonymous++}`;
    const seen = byId.get(id);
    byId.set(
      id,
      seen
        ? {
            ...seen,
            tokens_in: Math.max(seen.tokens_in, entry.tokens_in),
            tokens_out: Math.max(seen.tokens_out, entry.tokens_out),
            cache_read_tokens: Math.max(seen.cache_read_tokens, entry.cache_read_tokens),
            cache_write_tokens: Math.max(seen.cache_write_tokens, entry.cache_write_tokens),
          }
        : entry,
    );
  }
  return { session, usage: [...byId.values()].filter((u) => u.tokens_in + u.tokens_out > 0) };
}

/** The transcript at `path`; `-` reads a Claude Code hook's JSON from stdin and takes its `transcript_path` (and `session_id`). */
export function readTranscript(path: string): Transcript & { path: string } {
  let file = path;
  let session: string | null = null;
  if (path === "-") {
    const hook = JSON.parse(readFileSync(0, "utf8")) as { transcript_path?: unknown; session_id?: unknown };
    if (typeof hook.transcript_path !== "string") throw new Error("the hook input on stdin has no transcript_path");
    file = hook.transcript_path;
    if (typeof hook.session_id === "string") session = hook.session_id;
  }
  const t = parseTranscript(readFileSync(file, "utf8"));
  return { ...t, session: session ?? t.session, path: file };
}

/** Sums per model. */
export function byModel(usage: readonly TranscriptUsage[]): Map<string | null, Usage> {
  const out = new Map<string | null, Usage>();
  for (const u of usage) {
    const t = out.get(u.model) ?? { tokens_in: 0, tokens_out: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
    t.tokens_in += u.tokens_in;
    t.tokens_out += u.tokens_out;
    t.cache_read_tokens += u.cache_read_tokens;
    t.cache_write_tokens += u.cache_write_tokens;
    out.set(u.model, t);
  }
  return out;
}
