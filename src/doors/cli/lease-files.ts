/**
 * The CLI's lease memory (core/lease-memory.ts): one small file per
 * (ledger, agent, project, WO) under WORKLEDGER_STATE_DIR (default
 * ~/.workledger/leases), readable by the user only. A file is written whole
 * to a temporary name and renamed into place, and no file is shared between
 * two keys, so concurrent CLI processes never see half a file or undo each
 * other's writes. WORKLEDGER_TOKEN_MEMORY=off turns the memory off.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { LeaseMemory, RememberedLease } from "../../core/lease-memory.js";
import { assertPrivateDir } from "./private-dir.js";

export const leaseDir = () => process.env.WORKLEDGER_STATE_DIR || join(homedir(), ".workledger", "leases");
/** How errors name it. */
export const STATE_DIR = "WORKLEDGER_STATE_DIR";

export const tokenMemoryOff = () => /^(off|0|false|no)$/i.test(process.env.WORKLEDGER_TOKEN_MEMORY ?? "");

interface Stored extends RememberedLease {
  ledger: string;
  agent: string;
}

/**
 * The leases this agent took on this ledger (`ledger`: its location; `agent`:
 * its name, or its token's digest). A lease first remembered inside a
 * keep-alive session (`session()`, see sessions.ts) stays that session's.
 */
export function fileLeaseMemory(ledger: string, agent: string, dir = leaseDir(), session: () => number | undefined = () => undefined): LeaseMemory {
  assertPrivateDir(dir, STATE_DIR);
  const name = (project: string, id: number) =>
    createHash("sha256")
      .update(JSON.stringify([ledger, agent, project, id]))
      .digest("hex")
      .slice(0, 40) + ".json";
  const read = (file: string): Stored | undefined => {
    try {
      const s = JSON.parse(readFileSync(join(dir, file), "utf8")) as Stored;
      return s.ledger === ledger && s.agent === agent ? s : undefined;
    } catch {
      return undefined; // absent, or not ours: nothing remembered
    }
  };
  return {
    recall: (project, id) => read(name(project, id)),
    remember(lease) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, name(lease.project, lease.id));
      const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
      const before = read(name(lease.project, lease.id));
      const owner = lease.session ?? (before?.token === lease.token ? before.session : session());
      try {
        writeFileSync(tmp, JSON.stringify({ ...lease, ledger, agent, ...(owner === undefined ? {} : { session: owner }) } satisfies Stored), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        rmSync(tmp, { force: true }); // a memory that cannot be written only loses the convenience
      }
    },
    forget(project, id) {
      try {
        unlinkSync(join(dir, name(project, id)));
      } catch {
        // already forgotten
      }
    },
    all() {
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith(".json"));
      } catch {
        return [];
      }
      return files.flatMap((f) => {
        const s = read(f);
        return s
          ? [
              {
                project: s.project,
                id: s.id,
                token: s.token,
                length_ms: s.length_ms,
                ...(s.lost ? { lost: true } : {}),
                ...(s.told ? { told: true as const } : {}),
                ...(s.session === undefined ? {} : { session: s.session }),
              },
            ]
          : [];
      });
    },
  };
}
