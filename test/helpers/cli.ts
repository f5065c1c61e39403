/** Spawns the real built CLI (dist/) against a temporary ledger. */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/doors/cli/main.js", import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws when it is not exactly one JSON document). */
  json: any;
}

export interface Sandbox {
  dir: string;
  db: string;
  env: Record<string, string>;
  /** Runs `workledger ...args` synchronously. */
  run(args: string[], opts?: { input?: string; env?: Record<string, string | undefined>; cwd?: string }): Run;
  /** Runs `workledger ...args` as a child process, resolving when it exits. */
  spawn(args: string[], opts?: { env?: Record<string, string | undefined> }): Promise<Run>;
  cleanup(): void;
}

function result(code: number | null, stdout: string, stderr: string): Run {
  return {
    code: code ?? -1,
    stdout,
    stderr,
    get json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`stdout is not one JSON document (exit ${code}):\n${stdout.slice(0, 2000)}\nstderr:\n${stderr.slice(0, 2000)}`);
      }
    },
  };
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "workledger-test-"));
  const db = join(dir, "ledger.db");
  // The CLI's code cache goes into the sandbox, never into the user's cache folder.
  const env = { WORKLEDGER_DB: db, NO_COLOR: "1", WORKLEDGER_CODE_CACHE: join(dir, "code-cache"), WORKLEDGER_STATE_DIR: join(dir, "state") };
  const fullEnv = (extra: Record<string, string | undefined> = {}) => {
    const e: Record<string, string | undefined> = { ...process.env, ...env, ...extra };
    for (const k of ["WORKLEDGER_AGENT", "WORKLEDGER_PROJECT", "WORKLEDGER_CAN"]) if (!(k in extra)) delete e[k];
    return e as NodeJS.ProcessEnv;
  };
  return {
    dir,
    db,
    env,
    run(args, opts = {}) {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        env: fullEnv(opts.env),
        input: opts.input ?? "",
        encoding: "utf8",
        cwd: opts.cwd ?? dir,
        timeout: 60_000,
        maxBuffer: 256 << 20,
      });
      return result(r.status, r.stdout, r.stderr);
    },
    spawn(args, opts = {}) {
      return new Promise((resolve) => {
        execFile(process.execPath, [CLI, ...args], { env: fullEnv(opts.env), cwd: dir, timeout: 120_000, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
          resolve(result(code, stdout, stderr));
        });
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
