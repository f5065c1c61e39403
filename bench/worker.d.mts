// Types for worker.mjs (plain JavaScript, so worker processes start without a TypeScript loader).
import type { Ledger } from "../src/core/ledger.ts";
import type { WorkerResult } from "./together.ts";

export function readyThenGo(): Promise<void>;
export function timed(n: number, cycle: (i: number) => boolean | Promise<boolean>): Promise<WorkerResult>;
export function claimAndComplete(ledger: Pick<Ledger, "claim" | "update">, project: string, agent: string, n: number): Promise<WorkerResult>;
