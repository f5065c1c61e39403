/**
 * Row <-> record mapping for the PostgreSQL adapter. The pool's type parsers
 * (store.ts) already turn timestamptz into ISO strings, bigint into numbers,
 * text[] / integer[] into arrays and json into values, so rows need little
 * more than renaming the lease columns.
 */
import type { ContextEntry, LedgerEvent, Note, StoredWorkOrder } from "../../core/types.js";
import { rowToWorkOrder, WO_COLUMNS, workOrderToRow, type ListCodec, type WorkOrderRowOf } from "../rows.js";

// pg sends and receives JS arrays as SQL arrays.
const NATIVE_LISTS: ListCodec<unknown[]> = { decode: (v) => v, encode: (v) => [...v] };

export type WorkOrderRow = WorkOrderRowOf<unknown[]>;
export const toWorkOrder = (r: WorkOrderRow): StoredWorkOrder => rowToWorkOrder(r, NATIVE_LISTS);
export { WO_COLUMNS };

/** Parameter values in WO_COLUMNS order. */
export function woParams(wo: StoredWorkOrder): unknown[] {
  const row = workOrderToRow(wo, NATIVE_LISTS);
  return WO_COLUMNS.map((c) => row[c]);
}

export type EventRow = LedgerEvent;
export type NoteRow = Note;
export type ContextRow = ContextEntry;
