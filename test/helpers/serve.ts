/** Starts `workledger serve` as a real child process and waits until it listens. */
import { spawn, type ChildProcess } from "node:child_process";
import { CLI } from "./cli.ts";

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** `prefix` runs it through another command, e.g. `ip netns exec HOST` for a test host (later `args` override earlier ones: `--port 5555`). */
export function serve(env: Record<string, string>, args: string[] = [], prefix: readonly string[] = []): Promise<ServeProcess> {
  const [command, ...before] = [...prefix, process.execPath];
  const child = spawn(command!, [...before, CLI, "serve", "--port", "0", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 15_000);
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = / on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          stderr: () => err,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
              child.once("exit", (code) => done(code));
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${err}`));
    });
  });
}
