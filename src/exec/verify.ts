/**
 * Runs a work order's verification command exactly as the WO states it, in a
 * shell, with a timeout that kills the whole process group. Only the tail of
 * the output is kept: it goes into a note, and notes are read by agents that
 * pay for every byte.
 */
import { spawn } from "node:child_process";

export interface VerifyRun {
  passed: boolean;
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  output_tail: string;
}

export const TAIL_CHARS = 4000;

export function runVerification(command: string, opts: { cwd?: string; timeoutMs: number; echo?: (chunk: Buffer) => void }): Promise<VerifyRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd: opts.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    let timedOut = false;
    const keep = (chunk: Buffer) => {
      opts.echo?.(chunk);
      tail = (tail + chunk.toString("utf8")).slice(-TAIL_CHARS);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, opts.timeoutMs);
    const finish = (code: number | null, extra = "") => {
      clearTimeout(timer);
      const note = timedOut ? `\n[timed out after ${opts.timeoutMs} ms]` : extra;
      resolve({ passed: code === 0 && !timedOut, exit_code: timedOut ? null : code, timed_out: timedOut, duration_ms: Date.now() - started, output_tail: (tail + note).slice(-TAIL_CHARS) });
    };
    child.on("error", (e) => finish(127, `\n[could not start: ${e.message}]`));
    child.on("close", (code) => finish(code));
  });
}
