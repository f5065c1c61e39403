/**
 * Steps shared by the ledger's operations, each run inside one store
 * transaction: load with lazy expiry, persist a rule's change, append notes.
 */
import { LedgerError } from "./errors.js";
import * as rules from "./rules.js";
import { nearMisses } from "./names.js";
import type { NewEvent, Note, NoteKind, Project, StoredWorkOrder } from "./types.js";
import type { Tx } from "./port.js";

/** The same transaction, recording what it appends (marked as an admin's when `admin`). */
export function collecting(tx: Tx, into: NewEvent[], admin = false): Tx {
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === "appendEvents") {
        return (given: readonly NewEvent[]) => {
          const events = admin ? given.map((e) => ({ ...e, data: { ...e.data, admin: true } })) : given;
          into.push(...events);
          return target.appendEvents(events);
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Lapsed leases recorded per sweep (a sweep is one transaction). */
export const SWEEP_BATCH = 10_000;

/** Records the expiry of lapsed leases (those given, or the project's). */
export async function recordExpiries(tx: Tx, project: string | null, lapsed?: readonly StoredWorkOrder[]): Promise<void> {
  for (const wo of lapsed ?? (await tx.expiredLeases(project, SWEEP_BATCH))) {
    const change = rules.expire(wo, tx.now());
    if (change) await persist(tx, change);
  }
}

export async function persist(tx: Tx, change: rules.Change): Promise<void> {
  if (change.next === change.prev) return; // nothing changed
  await tx.saveWorkOrder(change.next, change.prev);
  if (change.events.length === 0) return; // a keep-alive's renewal: recorded on the WO only
  await tx.appendEvents(change.events);
  if (change.attempt) await tx.saveAttempt(change.attempt);
  if (change.note) await appendNote(tx, change.next, { agent: change.events[0]!.agent, ...change.note });
}

/** Loads a WO inside a write transaction, recording the expiry of a lapsed lease first. */
export async function loadForWrite(tx: Tx, project: string, id: number): Promise<StoredWorkOrder> {
  const wo = await getOrNotFound(tx, project, id);
  const expired = rules.expire(wo, tx.now());
  if (!expired) return wo;
  await persist(tx, expired);
  return expired.next;
}

export async function getOrNotFound(tx: Tx, project: string, id: number): Promise<StoredWorkOrder> {
  const wo = await tx.getWorkOrder(project, id);
  if (wo) return wo;
  await requireProject(tx, project);
  throw new LedgerError("NOT_FOUND", `${rules.label(id)} does not exist in project ${project}`, {
    hint: "{{op:list}} shows the work orders of a project",
    details: { project, id },
  });
}

/** Appends a note and its event (`data`: more for the event, e.g. whether a verification passed, so webhooks need not read the note). */
export async function appendNote(tx: Tx, wo: StoredWorkOrder, n: { agent: string; body: string; kind: NoteKind; data?: Record<string, unknown> }): Promise<Note> {
  const note = await tx.insertNote({ project: wo.project, wo: wo.id, agent: n.agent, kind: n.kind, body: n.body, created_at: tx.now() });
  await tx.appendEvents([
    { project: wo.project, wo: wo.id, type: "note_added", agent: n.agent, revision: wo.revision, at: note.created_at, data: { note_id: note.id, kind: n.kind, ...n.data } },
  ]);
  return note;
}

/** Reads of an unknown project are NOT_FOUND (naming the project it may have meant), checked inside the caller's transaction. */
export async function requireProject(tx: Tx, project: string): Promise<Project> {
  const found = await tx.getProject(project);
  if (!found) throw projectNotFound(project, nearMisses(project, await tx.projectNames()));
  return found;
}

export function projectNotFound(
  project: string,
  close: readonly string[] = [],
  hint = "{{op:projects}} lists the projects; {{op:create}} makes work (and its project)",
): LedgerError {
  const meant = close.length ? `; did you mean ${close.slice(0, 3).join(" or ")}?` : "";
  return new LedgerError("NOT_FOUND", `project ${project} does not exist${meant}`, {
    hint,
    details: { project, ...(close.length ? { did_you_mean: close.slice(0, 3) } : {}) },
  });
}

/** A project nobody has written to yet (its first write creates it), as opposed to a near miss of an existing name (a typo). */
export const notYetWritten = (e: unknown): boolean =>
  e instanceof LedgerError && e.code === "NOT_FOUND" && typeof e.details?.project === "string" && e.details.id === undefined && e.details.did_you_mean === undefined;

/**
 * A project NOT_FOUND names the ledger that was searched: agents that cannot
 * see each other's projects are most often on two ledgers (another HOME,
 * another --db), and creating the project again would split their work.
 */
export function searchedIn(e: unknown, ledger: string): unknown {
  if (!(e instanceof LedgerError) || e.code !== "NOT_FOUND" || typeof e.details?.project !== "string" || e.details.id !== undefined) return e;
  // A near miss of an existing name is a typo, not another ledger: its hint stays as it is.
  const elsewhere = "if other agents use this project, use their ledger (WORKLEDGER_DB, or a .workledger file at the repository's root: workledger init writes one)";
  const hint = e.details.did_you_mean !== undefined ? e.hintTemplate : e.hintTemplate ? `${e.hintTemplate}; ${elsewhere}` : elsewhere;
  return new LedgerError("NOT_FOUND", `${e.message} (searched ledger ${ledger})`, { ...(hint === undefined ? {} : { hint }), details: { ...e.details, ledger } });
}

/**
 * An error about a WO of another project than the caller's default one says
 * which: its hint's next step (claim it, get it) would otherwise go to the
 * default project's WO of the same number (twentieth MCP trial).
 */
export function inItsProject(e: unknown, defaultProject: string | undefined): unknown {
  const project = e instanceof LedgerError ? e.details?.project : undefined;
  // A validation error's project may be another WO's it clashes with: only errors about the WO itself are qualified.
  if (
    !(e instanceof LedgerError) ||
    e.code === "VALIDATION" ||
    typeof project !== "string" ||
    typeof e.details?.id !== "number" ||
    defaultProject === undefined ||
    project === defaultProject
  )
    return e;
  const where = `${rules.label(e.details.id)} is in project ${project}, not ${defaultProject}: give {{project=${project}}} with each call about it`;
  return new LedgerError(e.code, `${e.message} (project ${project})`, { hint: e.hintTemplate ? `${e.hintTemplate}; ${where}` : where, details: e.details, cause: e });
}

/**
 * The project a write names, created by that first write (DESIGN.md §3),
 * unless its name is a near miss of an existing one (`shopp` beside `shop`):
 * then it is refused, so a typo never silently starts a second project.
 * `explicit` (new_project) creates it anyway.
 */
export async function projectForWrite(tx: Tx, project: string, explicit: boolean): Promise<Project | null> {
  const existing = await tx.getProject(project);
  if (existing) return existing;
  const close = explicit ? [] : nearMisses(project, await tx.projectNames());
  if (close.length) {
    throw new LedgerError("NOT_FOUND", `project ${project} does not exist; did you mean ${close.slice(0, 3).join(" or ")}? (nothing was written)`, {
      hint: `use {{project=${close[0]}}}; to start a new project named ${project}, repeat with {{new_project=true}}`,
      details: { project, did_you_mean: close.slice(0, 3) },
    });
  }
  await tx.insertProject(project, tx.now());
  return null;
}

/** The id of batch item `#N` named by item `i` (ids start at `first`); only earlier items, so a batch cannot loop. */
export function batchItem(ref: string, i: number, first: number, field = `items[${i}].depends_on`): number {
  const n = Number(ref.slice(1));
  if (n < 1 || n > i) {
    const which = i === 0 ? "no item comes before this one (a single work order depends on existing ones, by id)" : `item ${i + 1} may name #1 to #${i}`;
    throw new LedgerError("VALIDATION", `${field}: ${ref} is not an earlier item of this batch: ${which}`, {
      hint: "#N names the Nth item of the same batch, counting from 1, and only items before this one; nothing was written",
      details: { issues: [{ field, message: "bad batch reference" }] },
    });
  }
  return first + n - 1;
}
