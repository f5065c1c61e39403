/**
 * One specialized agent of the pipeline scenario (issue 25), as its own
 * process: `node --import tsx pipeline-agent.ts ROLE AGENT` with the ledger
 * in WORKLEDGER_DB or WORKLEDGER_DATABASE_URL (+ WORKLEDGER_SCHEMA).
 *
 * - triager: creates rough work (first stage, requiring `enrich`) and some
 *   clear work (straight to `ready`, requiring `code`), in two bursts;
 * - enricher (can enrich): takes `enrich` work only, sharpens it (acceptance,
 *   requires code), reports its enrich spend and hands it on to `ready`;
 * - executor (can code): takes `ready` work only, reports its execute spend,
 *   finishes it.
 * - wanderer (can review): claims whatever is next, whatever the stage, for
 *   two seconds; nothing here fits it, so it must never get anything.
 * Each stops when all TOTAL WOs exist and none is left for it.
 */
import { pathToFileURL } from "node:url";
import { openLedger } from "../../src/index.ts";

export const PROJECT = "pipeline";
export const ROUGH = 8;
export const CLEAR = 4;
const TOTAL = ROUGH + CLEAR;

/** Run as a process (not imported for its constants). */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(...(process.argv.slice(2) as [string, string]));

async function main(role: string, agent: string): Promise<void> {
  const ledger = await openLedger({ schema: process.env.WORKLEDGER_SCHEMA || undefined });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const me = { project: PROJECT, agent };
  const all = () => ledger.list({ project: PROJECT, status: "all", limit: 1000 });

  try {
    if (role === "triager") {
      for (let burst = 0; burst < 3; burst++) {
        const rough = Array.from({ length: ROUGH / 2 }, (_, i) => ({ title: `rough ${burst}.${i}`, priority: "P1" as const, requires: ["enrich"] }));
        const clear = Array.from({ length: CLEAR / 2 }, (_, i) => ({ title: `clear ${burst}.${i}`, stage: "ready", requires: ["code"], acceptance: ["tests pass"] }));
        if (burst < 2) await ledger.create({ ...me, items: [...rough, ...clear] });
        await sleep(150);
      }
    } else if (role === "wanderer") {
      for (const until = Date.now() + 2000; Date.now() < until; await sleep(20)) {
        const got = await ledger.claim({ ...me, can: ["review"], next: true }).catch(() => null);
        if (got) throw new Error(`the wanderer (can review) claimed WO-${got.id}, which requires ${got.requires.join(", ")}`);
      }
    } else {
      const stage = role === "enricher" ? "enrich" : "ready";
      const can = role === "enricher" ? ["enrich"] : ["code"];
      for (;;) {
        const wo = await ledger.claim({ ...me, can, next: true, stage, ttl: "1m" }).catch((e: { code?: string }) => {
          if (e.code === "NOTHING_TO_CLAIM") return null;
          throw e;
        });
        if (wo === null) {
          const wos = await all();
          // The enricher is done when nothing is left in its stage; an executor only when everything is (work may be on its way to it).
          const left = role === "enricher" ? wos.filter((w) => w.stage === stage) : wos.filter((w) => w.status !== "done");
          if (wos.length === TOTAL && left.length === 0) break;
          await sleep(30);
          continue;
        }
        if (role === "enricher") {
          await ledger.update({ ...me, id: wo.id, fields: { acceptance: [`${wo.title}: sharp`], requires: ["code"] } });
          await ledger.spend({ ...me, id: wo.id, phase: "enrich", model: "opus", cost_usd: 0.2 });
          await ledger.release({ ...me, id: wo.id, stage: "ready" });
        } else {
          await ledger.spend({ ...me, id: wo.id, phase: "execute", model: "haiku", cost_usd: wo.title.startsWith("rough") ? 0.5 : 1.5 });
          await ledger.release({ ...me, id: wo.id, status: "done" });
        }
      }
    }
  } finally {
    await ledger.close();
  }
}
