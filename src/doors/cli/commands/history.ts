/** history: the append-only event log of a work order or a project. */
import type { Command } from "commander";
import type { LedgerEvent } from "../../../core/types.js";
import { registerOperation, WO_ID } from "../operation.js";
import * as render from "../render.js";

export function register(program: Command): void {
  registerOperation<LedgerEvent[]>(program, {
    op: "history",
    description: "event log of a work order (--id) or of the whole project, oldest first, with field diffs",
    flags: {
      id: WO_ID,
      after: { help: "only events after this sequence number", flag: "--after <seq>", number: true },
      limit: { help: "at most this many (default 1000)", flag: "--limit <n>", number: true },
    },
    render: (events) => ({ human: () => render.history(events) }),
  });
}
