/**
 * Runs the CLI bundle through V8's code cache, so a command does not compile
 * the same JavaScript again in every process. Node 22 does this itself
 * (module.enableCompileCache); on Node 20 we compile with vm.Script and hand it
 * the data an earlier run produced.
 *
 * The cache is an optimisation only: whatever goes wrong with it, the bundle
 * is compiled from source as before. Its safety rests on three checks:
 * * V8 rejects data from another V8 version or other V8 flags
 *   (`cachedDataRejected`), but it recognises the source only by its length
 *   and, in release builds, does not checksum the data. So the file records
 *   the Node version, the bundle's length and CRC-32, and a CRC-32 of the
 *   data; any mismatch means a plain compile and a fresh file.
 * * Files are written to a temporary name and renamed, so concurrent runs see
 *   a whole file or none.
 * * The cache lives in the user's own cache folder, never a shared temporary
 *   folder where another user could plant code.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Script } from "node:vm";
import { crc32 } from "node:zlib";

const MAGIC = "wlc1";

/**
 * Where the cache goes: WORKLEDGER_CODE_CACHE (a folder, or `off`), else
 * $XDG_CACHE_HOME/workledger, else ~/.cache/workledger.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.WORKLEDGER_CODE_CACHE;
  if (chosen === "off") return undefined;
  if (chosen) return chosen;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "workledger");
}

/** Runs `file` (a CommonJS bundle) like Node's loader would, using and refreshing the cache in `dir`. */
export function runCached(file: string, dir: string | undefined): void {
  const source = readFileSync(file, "utf8");
  // zlib.crc32 arrived in Node 20.15; without it there is no cheap integrity check, so no cache.
  const usable = dir !== undefined && typeof crc32 === "function";
  const key = usable ? `${process.version} ${process.arch} ${source.length} ${crc32(source)}` : "";
  // One file per installed bundle: a new build or Node version overwrites it instead of piling up.
  const path = usable ? join(dir, `cli-${crc32(file).toString(16)}.bin`) : "";
  const cached = usable ? readCache(path, key) : undefined;

  const wrapper = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapper, { filename: file, ...(cached ? { cachedData: cached } : {}) });
  if (usable && (cached === undefined || script.cachedDataRejected === true)) {
    // Written at exit, so the data also holds the functions this command compiled on the way.
    process.once("exit", () => writeCache(path, key, () => script.createCachedData()));
  }
  const module = { exports: {} as unknown, filename: file, id: file };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}

/** Layout: magic (4 bytes), CRC-32 of the data, key length, key (UTF-8), data. */
function readCache(path: string, key: string): Buffer | undefined {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  if (file.length < 12 || file.toString("latin1", 0, 4) !== MAGIC) return undefined;
  const keyLength = file.readUInt32LE(8);
  if (12 + keyLength > file.length || file.toString("utf8", 12, 12 + keyLength) !== key) return undefined;
  const data = file.subarray(12 + keyLength);
  return data.length > 0 && crc32(data) === file.readUInt32LE(4) ? data : undefined;
}

function writeCache(path: string, key: string, produce: () => Buffer): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const data = produce();
    const keyBytes = Buffer.from(key, "utf8");
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, "latin1");
    head.writeUInt32LE(crc32(data), 4);
    head.writeUInt32LE(keyBytes.length, 8);
    writeFileSync(temporary, Buffer.concat([head, keyBytes, data]), { mode: 0o600 });
    renameSync(temporary, path);
  } catch {
    // A cache we cannot write (read-only home, full disk) only costs the next run a compile.
    rmSync(temporary, { force: true });
  }
}
