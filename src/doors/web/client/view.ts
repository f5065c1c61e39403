/** What every view receives, and the helpers views share. */
import { ApiError } from "./api.js";
import { h } from "./dom.js";
import type { Role } from "../../../core/types.js";

export interface Me {
  id: string;
  agent: string;
  role: Role;
  project: string | null;
}

export interface ViewContext {
  root: HTMLElement;
  me: Me;
  project: string;
  id: number;
  params: URLSearchParams;
  navigate(hash: string): void;
}

/** Draws into ctx.root and returns what stops its timers and streams. */
export type View = (ctx: ViewContext) => () => void;

/** Agent and admin tokens may write through the API, so the dashboard offers them the same (the server decides each request). */
export const canAct = (me: Me): boolean => me.role !== "reader";

export const projectHash = (project: string): string => `#/p/${encodeURIComponent(project)}`;
export const woHash = (project: string, id: number): string => `${projectHash(project)}/wo/${id}`;

/** An error as a person should read it: what happened, whether someone beat you to it, what to do next. */
export function errorBox(e: unknown): HTMLElement {
  if (e instanceof ApiError && e.status === 401) window.dispatchEvent(new Event("workledger:unauthorized"));
  const err = e instanceof ApiError ? e : new ApiError(0, "INTERNAL", (e as Error)?.message ?? String(e));
  return h(
    "div",
    { class: `alert ${err.conflict ? "conflict" : "error"}`, role: "alert", "data-code": err.code },
    h("strong", {}, err.conflict ? "Conflict: " : "Error: "),
    err.message,
    err.hint ? h("div", { class: "hint" }, err.hint) : null,
  );
}
