/** Row <-> record mapping for the SQLite adapter. */
import type { ContextEntry, LedgerEvent, Note, StoredWorkOrder } from "../../core/types.js";
import { rowToWorkOrder, WO_COLUMNS, workOrderToRow, type ListCodec, type WorkOrderRowOf } from "../work-order-row.js";

const JSON_LISTS: ListCodec<string> = { decode: (v) => JSON.parse(v) as unknown[], encode: (v) => JSON.stringify(v) };

export type WorkOrderRow = WorkOrderRowOf<string>;
export const toWorkOrder = (r: WorkOrderRow): StoredWorkOrder => rowToWorkOrder(r, JSON_LISTS);
export const fromWorkOrder = (wo: StoredWorkOrder): WorkOrderRow => workOrderToRow(wo, JSON_LISTS);
export { WO_COLUMNS };

export type EventRow = Omit<LedgerEvent, "data"> & { data: string };
export const toEvent = (r: EventRow): LedgerEvent => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> });

export type NoteRow = Note;

export type ContextRow = Omit<ContextEntry, "git"> & { git: string | null };
export const toContext = (r: ContextRow): ContextEntry => ({ ...r, git: r.git === null ? null : (JSON.parse(r.git) as ContextEntry["git"]) });
