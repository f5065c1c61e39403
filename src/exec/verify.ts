/**
 * Runs a work order's verification command exactly as the WO states it, in a
 * shell, with a timeout that kills the whole process group. Only the tail of
 * the output is kept: it goes into a note, and notes are read by agents that
 * pay for every byte.
 */
import { spawn } from "node:child_process";
import type { LedgerApi } from "../core/api.js";
import { LedgerError } from "../core/errors.js";
import type { VerificationResult } from "../core/ledger.js";
import { agentName, inputs, type Inputs } from "../core/schemas.js";
import { noIdentity, parse } from "../core/validate.js";

export interface VerifyRun {
  passed: boolean;
  exit_code: number | null;
  timed_out: boolean;
  duration_ms: number;
  output_tail: string;
}

export const TAIL_CHARS = 4000;
export const DEFAULT_VERIFY_TIMEOUT_MS = 10 * 60_000;

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

export type VerifyOutcome = VerificationResult & { exit_code: number | null; timed_out: boolean; duration_ms: number };

/**
 * The whole `verify` step shared by the CLI and MCP doors: load the WO, run
 * its command here, record the result (and block on failure if asked).
 * `requireAgent` is false in remote mode, where the server's token decides.
 */
export async function verifyWorkOrder(ledger: LedgerApi, input: Inputs["verify"], opts: { requireAgent: boolean; echo?: (chunk: Buffer) => void; onStart?: (command: string) => void }): Promise<VerifyOutcome> {
  const v = parse(inputs.verify.extend({ agent: agentName.optional() }), input);
  if (opts.requireAgent && v.agent === undefined) throw noIdentity();
  const wo = await ledger.get({ project: v.project, id: v.id });
  if (!wo.verification.trim()) {
    throw new LedgerError("VALIDATION", `verification: WO-${wo.id} has no verification command`, {
      hint: `set one with update --id ${wo.id} --verification "npm test"`,
      details: { issues: [{ field: "verification", message: "empty" }] },
    });
  }
  opts.onStart?.(wo.verification);
  const run = await runVerification(wo.verification, { timeoutMs: v.timeout ?? DEFAULT_VERIFY_TIMEOUT_MS, ...(opts.echo ? { echo: opts.echo } : {}) });
  const result = await ledger.recordVerification({
    project: v.project,
    agent: v.agent as string,
    id: wo.id,
    passed: run.passed,
    exit_code: run.exit_code,
    duration_ms: run.duration_ms,
    output_tail: run.output_tail,
    ...(v.block_on_fail ? { block_on_fail: true } : {}),
    ...(v.lease_token !== undefined ? { lease_token: v.lease_token } : {}),
  });
  return { ...result, exit_code: run.exit_code, timed_out: run.timed_out, duration_ms: run.duration_ms };
}
