/** A prune's archive file (service/retention.ts): new, written a batch at a time, on disk before the batch is removed. */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { LedgerError } from "../core/errors.js";
import type { ArchiveLine } from "../core/service/archive.js";

export interface ArchiveFile {
  write(lines: ArchiveLine[]): Promise<void>;
  /** Closes it; one that holds no record (nothing was removed) is deleted. */
  close(): void;
}

export function openArchive(file: string): ArchiveFile {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600); // never over an earlier archive: it may hold what an earlier prune removed
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LedgerError("VALIDATION", `--archive ${file}: ${code === "EEXIST" ? "the file exists; prune never writes over an archive" : (e as Error).message}`, {
      hint: "give a new file name; nothing was removed",
      details: { issues: [{ field: "archive", message: code === "EEXIST" ? "exists" : "cannot be created" }] },
    });
  }
  let records = false;
  return {
    async write(lines) {
      records ||= lines.some((l) => l.type !== "header" && l.type !== "end");
      writeSync(fd, lines.map((l) => JSON.stringify(l) + "\n").join(""));
      fsyncSync(fd); // on disk before the transaction that removes it commits
    },
    close() {
      closeSync(fd);
      if (!records) rmSync(file, { force: true });
    },
  };
}
