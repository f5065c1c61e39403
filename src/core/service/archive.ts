/**
 * Export and import (issue 29): a ledger as JSON Lines, to move it between
 * stores (a laptop's SQLite to a team's PostgreSQL) or keep it. A header names
 * the format and the schema it came from; then the tokens (as stored: their
 * hashes, never a secret); then each project with everything it holds, in
 * the order import writes it back; an `end` line says the file is whole.
 * Store-assigned numbers (event seq, note, context and spend ids) are left
 * out: import lets the store number them again, in the same order, so a round
 * trip through either store gives the same file. Webhooks (their secrets) and
 * idempotency records (a retry window) are not exported.
 */
import { LedgerError } from "../errors.js";
import type { Tx } from "../port.js";
import { assertAdmin } from "../tokens.js";
import {
  STATUSES,
  type Attempt,
  type ContextEntry,
  type NewEvent,
  type Note,
  type Project,
  type Role,
  type SpendRecord,
  type StoredWorkOrder,
  type TokenRecord,
} from "../types.js";
import { requireProject } from "../steps.js";
import type { Service } from "./shared.js";
import { MAX_ROWS } from "./shared.js";

export const ARCHIVE_FORMAT = "workledger-export";
export const ARCHIVE_VERSION = 1;
/** Records read from the store at a time (bounded memory on export). */
export const PAGE = 1000;

export interface ArchiveHeader {
  type: "header";
  format: typeof ARCHIVE_FORMAT;
  version: number;
  /** The schema version of the ledger it came from: a newer one is refused on import. */
  schema: number;
  store: string;
  exported_at: string;
  /** The projects it holds (all of the ledger's, or the one asked for). */
  projects: string[];
  not_exported: string[];
  /** A prune's archive (retention.ts): the history removed of WOs finished before this time. */
  pruned_before?: string;
}

export type ArchiveLine =
  | ArchiveHeader
  | { type: "token"; record: TokenRecord }
  | { type: "project"; record: Project }
  | { type: "work_order"; record: StoredWorkOrder }
  | { type: "attempt"; record: Attempt }
  | { type: "note"; record: Omit<Note, "id"> }
  | { type: "spend"; record: Omit<SpendRecord, "id"> }
  | { type: "context"; record: Omit<ContextEntry, "id"> }
  | { type: "event"; record: NewEvent }
  | { type: "end"; projects: number; lines: number };

export const NOT_EXPORTED = ["webhooks (a secret is never exported: subscribe again on the new ledger)", "idempotency records (a retry window, not history)"];

export interface ExportSummary {
  projects: number;
  lines: number;
}

/** Writes the ledger (or one project) to `out`, a line at a time, each project read on one consistent snapshot. */
export async function exportLedger(svc: Service, input: { project?: string | undefined; role: Role }, out: (line: ArchiveLine) => Promise<void>): Promise<ExportSummary> {
  assertAdmin(input.role, "export the ledger", "it holds every project's work and the tokens' records");
  const projects = await svc.store.read(async (tx) => (input.project === undefined ? (await tx.projectNames()).sort() : [(await requireProject(tx, input.project)).name]));
  let lines = 0;
  const put = async (line: ArchiveLine) => {
    lines++;
    await out(line);
  };
  const now = new Date().toISOString();
  const { kind, schema_version } = svc.store.info;
  await put({ type: "header", format: ARCHIVE_FORMAT, version: ARCHIVE_VERSION, schema: schema_version, store: kind, exported_at: now, projects, not_exported: NOT_EXPORTED });
  const tokens = await svc.store.read((tx) => tx.listTokens());
  for (const t of tokens) if (input.project === undefined || t.project === input.project) await put({ type: "token", record: t });
  for (const name of projects) await svc.store.read((tx) => exportProject(tx, name, put));
  await put({ type: "end", projects: projects.length, lines: lines + 1 });
  return { projects: projects.length, lines };
}

async function exportProject(tx: Tx, name: string, put: (line: ArchiveLine) => Promise<void>): Promise<void> {
  await put({ type: "project", record: await requireProject(tx, name) });
  const ids: number[] = [];
  for await (const wo of paged(
    (after) => tx.listWorkOrders({ project: name, statuses: STATUSES, after, limit: PAGE }),
    (w) => w.id,
  )) {
    await put({ type: "work_order", record: wo });
    ids.push(wo.id);
  }
  for (const id of ids) {
    for (const a of await tx.listAttempts({ project: name, wo: id, limit: MAX_ROWS })) await put({ type: "attempt", record: a });
    for (const { id: _id, ...n } of await tx.listNotes(name, id)) await put({ type: "note", record: n });
    for (const { id: _id, ...s } of await tx.listSpend({ project: name, wo: id, limit: MAX_ROWS })) await put({ type: "spend", record: s });
  }
  for await (const { id: _id, ...c } of paged(
    (after) => tx.contextPage(name, after, PAGE),
    (e) => e.id,
  ))
    await put({ type: "context", record: c });
  for await (const { seq: _seq, ...e } of paged(
    (after) => tx.listEvents(name, null, after, PAGE),
    (e) => e.seq,
  ))
    await put({ type: "event", record: e });
}

/** Every record `read` pages through, PAGE at a time, each page after the cursor `key` gives its last. */
export async function* paged<T>(read: (after: number) => Promise<T[]>, key: (last: T) => number): AsyncGenerator<T> {
  for (let after = 0; ;) {
    const page = await read(after);
    yield* page;
    if (page.length < PAGE) return;
    after = key(page.at(-1)!);
  }
}

export interface ImportSummary {
  tokens: number;
  projects: { name: string; work_orders: number; events: number; lines: number }[];
}

/** The fields each kind of record must have (the store's constraints judge the rest). */
const REQUIRED: Record<Exclude<ArchiveLine["type"], "header" | "end">, readonly string[]> = {
  token: ["id", "agent", "role", "hash", "created_at"],
  project: ["name", "created_at", "policy"],
  work_order: ["project", "id", "title", "status", "revision", "fence", "created_at"],
  attempt: ["project", "wo", "token", "agent", "started_at"],
  note: ["project", "wo", "agent", "kind", "body", "created_at"],
  spend: ["project", "wo", "token", "agent", "phase", "created_at"],
  context: ["project", "key", "body", "agent", "created_at"],
  event: ["project", "type", "agent", "at", "data"],
};

/**
 * Loads an export into this ledger: the tokens first (one already here with
 * the same hash is skipped; another under its id is refused), then
 * each project in one transaction of its own, into a project that does not
 * exist here or holds nothing yet. Ids, tokens, revisions and times are kept;
 * the store numbers events, notes, context and spend again, in the file's
 * order. A file cut short is refused at the project it cuts (the ones before
 * it are in). One project is held in memory while it is written.
 */
export async function importLedger(svc: Service, input: { role: Role }, lines: AsyncIterable<string>): Promise<ImportSummary> {
  assertAdmin(input.role, "import a ledger", "it writes every record the file holds, as the file says");
  const it = lines[Symbol.asyncIterator]();
  let n = 0;
  const next = async (): Promise<ArchiveLine | null> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return null;
      n++;
      if (r.value.trim() !== "") return parseLine(r.value, n);
    }
  };
  // A first line that is no record at all is no export either.
  checkHeader(await next().catch(() => null), svc.store.info.schema_version);
  const out: ImportSummary = { tokens: 0, projects: [] };
  let line = await next();
  const tokens: TokenRecord[] = [];
  for (; line?.type === "token"; line = await next()) tokens.push(line.record);
  out.tokens = await svc.store.write((tx) => importTokens(tx, tokens));
  while (line?.type === "project") {
    const project = line.record;
    const records: ArchiveLine[] = [];
    for (line = await next(); line !== null && line.type !== "project" && line.type !== "end"; line = await next()) {
      if (line.type === "header" || line.type === "token") throw bad(n, `a ${line.type} line inside project ${project.name}`);
      if (line.record.project !== project.name) throw bad(n, `a record of project ${String(line.record.project)} inside project ${project.name}`);
      records.push(line);
    }
    if (line === null) throw truncated(n, out, project.name);
    out.projects.push(await svc.store.write((tx) => importProject(tx, project, records)));
  }
  if (line === null) throw truncated(n, out, null);
  if (line.type !== "end") throw bad(n, `a ${line.type} line outside any project`);
  if (line.projects !== out.projects.length) throw bad(n, `the end line counts ${line.projects} projects, the file held ${out.projects.length}`);
  return out;
}

function parseLine(text: string, n: number): ArchiveLine {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad(n, "not JSON");
  }
  if (v === null || typeof v !== "object" || typeof (v as { type?: unknown }).type !== "string") throw bad(n, "not a record of an export (no type)");
  const line = v as ArchiveLine;
  if (line.type === "header" || line.type === "end") return line;
  // Own keys only: a type named like an Object method ("constructor") is no record type either.
  const required = Object.hasOwn(REQUIRED, line.type) ? REQUIRED[line.type] : undefined;
  if (required === undefined) throw bad(n, `unknown record type ${JSON.stringify(line.type)}`);
  const record = (line as { record?: unknown }).record;
  if (record === null || typeof record !== "object") throw bad(n, `a ${line.type} line without its record`);
  const missing = required.filter((k) => !(k in record));
  if (missing.length) throw bad(n, `a ${line.type} record without ${missing.join(", ")}`);
  return line;
}

function checkHeader(line: ArchiveLine | null, schema: number): void {
  if (line?.type !== "header" || line.format !== ARCHIVE_FORMAT)
    throw new LedgerError("VALIDATION", "this is not a workledger export: its first line is not the export's header", {
      hint: "give a file written by workledger export (JSON Lines, one record a line)",
      details: { issues: [{ field: "file", message: "no export header" }] },
    });
  if (line.version > ARCHIVE_VERSION || line.schema > schema)
    throw new LedgerError(
      "VALIDATION",
      `the export comes from a newer workledger (format ${line.version}, schema v${line.schema}); this one reads format ${ARCHIVE_VERSION} up to schema v${schema}`,
      {
        hint: "upgrade workledger here (npm install -g workledger@latest), then import again; nothing was written",
        details: { issues: [{ field: "file", message: "from a newer schema" }], schema: line.schema, supported: schema },
      },
    );
}

const bad = (n: number, what: string) =>
  new LedgerError("VALIDATION", `line ${n} of the export: ${what}`, {
    hint: "give the file workledger export wrote, unchanged",
    details: { issues: [{ field: "file", message: what }], line: n },
  });

function truncated(n: number, done: ImportSummary, cut: string | null): LedgerError {
  const written = done.projects.map((p) => p.name);
  return new LedgerError("VALIDATION", `the export ends at line ${n} without its end line: it was cut short${cut ? `, inside project ${cut}, which was not imported` : ""}`, {
    hint: written.length ? `projects ${written.join(", ")} were imported; export again and import the rest with --project` : "export again; nothing was imported",
    details: { issues: [{ field: "file", message: "cut short" }], imported: written, line: n },
  });
}

async function importTokens(tx: Tx, tokens: TokenRecord[]): Promise<number> {
  const here = new Map((await tx.listTokens()).map((t) => [t.id, t]));
  const fresh = tokens.filter((t) => {
    const same = here.get(t.id);
    if (same === undefined) return true;
    if (same.hash !== t.hash)
      throw new LedgerError("VALIDATION", `token ${t.id} exists here with another secret; nothing was imported`, {
        hint: "import into a ledger without that token (or revoke and remove it there first)",
        details: { issues: [{ field: "file", message: `token ${t.id} exists here` }], id: t.id },
      });
    return false;
  });
  for (const t of fresh) await tx.insertToken(t);
  return fresh.length;
}

async function importProject(tx: Tx, project: Project, records: ArchiveLine[]): Promise<ImportSummary["projects"][number]> {
  const name = project.name;
  if (await tx.getProject(name)) {
    const busy =
      (await tx.listWorkOrders({ project: name, statuses: STATUSES, limit: 1 })).length > 0 ||
      (await tx.listEvents(name, null, 0, 1)).length > 0 ||
      (await tx.contextPage(name, 0, 1)).length > 0;
    if (busy)
      throw new LedgerError("VALIDATION", `project ${name} already holds work here: import writes only into a project that is new or empty`, {
        hint: "import into another ledger, or leave this project out (export --project for the others)",
        details: { issues: [{ field: "file", message: `project ${name} is not empty here` }], project: name },
      });
  } else await tx.insertProject(name, project.created_at);
  await tx.setProjectPolicy(name, project.policy);
  let maxId = 0;
  let events: NewEvent[] = [];
  const flush = async () => {
    if (events.length) await tx.appendEvents(events);
    events = [];
  };
  const count = { work_orders: 0, events: 0 };
  for (const line of records) {
    if (line.type === "event") {
      events.push(line.record);
      count.events++;
      if (events.length >= PAGE) await flush();
      continue;
    }
    await flush();
    if (line.type === "work_order") {
      await tx.insertWorkOrder(line.record);
      maxId = Math.max(maxId, line.record.id);
      count.work_orders++;
    } else if (line.type === "attempt") await tx.saveAttempt(line.record);
    else if (line.type === "note") await tx.insertNote(line.record);
    else if (line.type === "spend") await tx.insertSpend(line.record);
    else if (line.type === "context") await tx.insertContext(line.record);
  }
  await flush();
  // The next create takes the id after the highest imported.
  const next = await tx.allocateIds(name, 0);
  if (maxId >= next) await tx.allocateIds(name, maxId + 1 - next);
  return { name, ...count, lines: records.length + 1 };
}
