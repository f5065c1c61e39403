/**
 * `workledger demo`: a scripted multi-agent session in a throw-away ledger.
 * Each agent step is a real `workledger` process, and the agent that "dies"
 * is really killed with SIGKILL while it holds a lease.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { c } from "../output.js";
import { cliAction } from "../run.js";

const CLI = fileURLToPath(new URL("../main.js", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function register(program: Command): void {
  program
    .command("demo")
    .description("run a scripted multi-agent session in a temporary ledger (about 10 seconds)")
    .option("--keep", "keep the temporary ledger and print its path")
    .action(
      cliAction(async (o, ctx) => {
        if (ctx.json) write = (s) => void process.stderr.write(s);
        const dir = mkdtempSync(join(tmpdir(), "workledger-demo-"));
        const db = join(dir, "ledger.db");
        try {
          await scenario(dir, db);
        } finally {
          if (!o.keep) rmSync(dir, { recursive: true, force: true });
        }
        return { data: { ok: true, db: o.keep ? db : null }, human: () => c.green("demo finished") + (o.keep ? ` — ledger kept at ${db}` : "") };
      }),
    );
}

// The narration is the demo's output; with --json it moves to stderr so stdout stays one document.
let write = (s: string) => void process.stdout.write(s);

function say(text: string): void {
  write(`\n${c.bold(c.blue("▶ " + text))}\n`);
}

const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);

/** Runs one agent command as its own process and shows it like a terminal would. */
function agent(db: string, name: string, args: string[], quiet = false): number {
  if (!quiet) write(c.dim(`${name}$ workledger ${args.map(quote).join(" ")}\n`));
  const r = spawnSync(process.execPath, [CLI, ...args], { env: env(db, name), input: "", encoding: "utf8" });
  const out = (r.stderr + r.stdout).trimEnd();
  if (quiet) return r.status ?? 1;
  if (out) write(out.replace(/^/gm, "  ") + "\n");
  if (r.status !== 0) write(c.yellow(`  (exit ${r.status})\n`));
  return r.status ?? 1;
}

const env = (db: string, name: string) => ({ ...process.env, WORKLEDGER_DB: db, WORKLEDGER_AGENT: name, WORKLEDGER_PROJECT: "shop", NO_COLOR: "1" });

async function scenario(dir: string, db: string): Promise<void> {
  say("An observer agent files one work order per affected system, in one atomic batch");
  const batch = join(dir, "batch.json");
  writeFileSync(
    batch,
    JSON.stringify([
      { title: "Fix checkout rounding error", priority: "P0", files: ["src/checkout/**"], verification: "echo '12 tests passed'", acceptance: ["totals round half-up"] },
      { title: "Add rounding test to invoices", priority: "P1", files: ["src/invoices/**"], verification: "echo 'invoices: 2 of 9 tests FAILED'; exit 1" },
      { title: "Document rounding rules", priority: "P2", files: ["docs/rounding.md"] },
    ]),
  );
  agent(db, "observer", ["create", "--from", batch]);

  say("Agent alice claims the most urgent work with a 3s lease, saves context... and then crashes");
  const alice = spawn(
    "/bin/sh",
    [
      "-c",
      `"${process.execPath}" "${CLI}" claim --next --ttl 3s && "${process.execPath}" "${CLI}" context-put ` +
        `-m "Rounding bug is in src/checkout/total.ts: uses Math.round on cents*100. Half-way through a fix." && sleep 600`,
    ],
    { env: env(db, "alice"), stdio: "ignore", detached: true },
  );
  write(c.dim(`alice$ workledger claim --next --ttl 3s && workledger context-put -m '…' && (keeps working)\n`));
  for (let i = 0; i < 100 && agent(db, "watcher", ["context-pull", "--require-fresh"], true) !== 0; i++) await sleep(100);
  process.kill(-(alice.pid as number), "SIGKILL");
  write(c.red(`  alice (pid ${alice.pid}) killed with SIGKILL while holding WO-1\n`));

  say("Agent bob wants WO-1 too: first claim wins, so bob is told who holds it and moves on");
  agent(db, "bob", ["claim", "--id", "1"]);
  agent(db, "bob", ["claim", "--next"]);

  say("Nobody talks to anybody. After alice's TTL passes, her work returns to the pool");
  await sleep(3200);
  agent(db, "carol", ["find-unclaimed"]);

  say("Agent carol pulls alice's context before starting, then takes over WO-1");
  agent(db, "carol", ["context-pull"]);
  agent(db, "carol", ["claim", "--id", "WO-1"]);
  agent(db, "carol", ["add-note", "--id", "1", "--kind", "finding", "-m", "Confirmed alice's finding; switched to integer cents."]);
  agent(db, "carol", ["verify", "--id", "1"]);
  agent(db, "carol", ["release", "--id", "1", "--status", "done", "--note", "fixed and verified"]);
  agent(db, "carol", ["context-put", "-m", "Checkout now uses integer cents. Invoices still round with floats."]);

  say("Bob's verification fails: the WO is marked blocked with the output as a note");
  agent(db, "bob", ["verify", "--id", "2", "--block-on-fail"]);

  say("The ledger remembers everything: WO-1's history, and the board");
  agent(db, "carol", ["history", "--id", "1"]);
  agent(db, "carol", ["list", "--status", "all"]);
}
