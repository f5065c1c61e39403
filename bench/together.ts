/**
 * Runs benchmark worker processes as one race: every process starts, loads
 * and connects, says "ready", and only when all have said so are they told
 * to go (one line on stdin). A start time agreed in advance was not enough:
 * 32 processes on 2 cores took up to 3.7 s to load, so some timed loops ran
 * while others were still starting and shared the CPU with them.
 */
import { spawn } from "node:child_process";

export interface WorkerResult {
  done: number;
  ms: number;
  /** The process's CPU time (user + system) in its timed loop. */
  cpuMs: number;
}

export async function runTogether(script: string, argLists: string[][]): Promise<WorkerResult[]> {
  const workers = argLists.map((args) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let markReady!: () => void;
    const ready = new Promise<void>((r) => (markReady = r));
    const result = new Promise<WorkerResult>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.startsWith("ready\n")) markReady();
      });
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.on("error", reject);
      child.on("exit", (code) => {
        const last = out.trim().split("\n").at(-1) ?? "";
        if (code === 0 && last.startsWith("{")) resolve(JSON.parse(last) as WorkerResult);
        else reject(new Error(`benchmark worker exited with ${code}: ${err || out}`));
      });
    });
    // A worker that dies before it is ready ends the wait too (with its error).
    return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
  });
  try {
    await Promise.all(workers.map((w) => w.ready));
  } finally {
    for (const w of workers) w.child.stdin.end("go\n");
  }
  return Promise.all(workers.map((w) => w.result));
}
