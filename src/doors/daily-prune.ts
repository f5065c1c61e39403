/**
 * serve's retention job (issue 29): once a day, each project whose policy
 * sets `prune_after` is pruned (service/retention.ts) into a new archive in
 * the directory serve was given, `<project>-<day>.jsonl`. A second serve on
 * the same database and directory finds that day's file made and leaves the
 * project to the first; pruning is idempotent, so one with another directory
 * only archives what is still there.
 */
import { join } from "node:path";
import type { Ledger } from "../core/ledger.js";
import { openArchive } from "./archive-file.js";

const DAY_MS = 86_400_000;

export class DailyPrune {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly ledger: Ledger,
    /** Where archives go; undefined: projects asking for retention are named in the log and not pruned. */
    private readonly dir: string | undefined,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    const tick = () => {
      this.running = this.runOnce().catch((e: unknown) => this.log(`prune: ${(e as Error).message}`));
      this.timer = setTimeout(() => void this.running?.then(tick), DAY_MS);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }

  /** Prunes each project that asks for it; returns when all are done. */
  async runOnce(): Promise<void> {
    const asking = (await this.ledger.projects({})).filter((p) => p.policy.prune_after_ms !== null);
    if (asking.length && this.dir === undefined) {
      this.log(`prune: ${asking.map((p) => p.name).join(", ")} set prune_after, but serve has no --archive-dir: nothing is pruned`);
      return;
    }
    for (const p of asking) {
      const file = join(this.dir!, `${p.name}-${new Date().toISOString().slice(0, 10)}.jsonl`);
      let archive;
      try {
        archive = openArchive(file);
      } catch (e) {
        // Made today already (by this serve, or another on the same database): that one pruned it.
        if (!/the file exists/.test((e as Error).message)) this.log(`prune: ${p.name}: ${(e as Error).message}`);
        continue;
      }
      try {
        const before = `${Math.round(p.policy.prune_after_ms! / 1000)}s`;
        const r = await this.ledger.prune({ project: p.name, before, role: "admin" }, archive.write);
        const done = r.projects[0];
        if (done) this.log(`prune: ${p.name}: ${done.work_orders} work order(s) finished before ${r.before}, archived in ${file}`);
      } finally {
        archive.close();
      }
    }
  }
}
