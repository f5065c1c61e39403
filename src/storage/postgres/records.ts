/**
 * Row <-> record mapping for the PostgreSQL adapter. The pool's type parsers
 * (store.ts) already turn timestamptz into ISO strings, bigint into numbers,
 * text[] / integer[] into arrays and json into values; work orders arrive as
 * one JSON column (jsonToWorkOrder).
 */
import type { ContextEntry, LedgerEvent, Note, StoredWorkOrder } from "../../core/types.js";
import { rowToWorkOrder, WO_COLUMNS, workOrderToRow, type ListCodec, type WorkOrderRowOf } from "../work-order-row.js";

// pg sends and receives JS arrays as SQL arrays.
const NATIVE_LISTS: ListCodec<unknown[]> = { decode: (v) => v, encode: (v) => [...v] };

export { WO_COLUMNS };

/** A WO as the one JSON parameter the statements spread into a row (tx.ts). */
export function woJson(wo: StoredWorkOrder): string {
  return JSON.stringify(workOrderToRow(wo, NATIVE_LISTS));
}

const TIMESTAMPS = ["created_at", "updated_at", "lease_claimed_at", "lease_expires_at", "lease_renewed_at", "lease_hold_until"] as const;

/**
 * A WO selected as one `to_json(w)` column: one field for pg to describe and
 * parse instead of 25, and arrays arrive as JSON. Timestamps come with the
 * session's offset and microseconds, so they are brought to the ISO form in
 * place (`j` is the freshly parsed column, read by nothing else).
 */
export function jsonToWorkOrder(j: Record<string, unknown>): StoredWorkOrder {
  for (const c of TIMESTAMPS) if (typeof j[c] === "string") j[c] = new Date(j[c] as string).toISOString();
  return rowToWorkOrder(j as unknown as WorkOrderRowOf<unknown[]>, NATIVE_LISTS);
}

export type EventRow = LedgerEvent;
export type NoteRow = Note;
export type ContextRow = ContextEntry;
