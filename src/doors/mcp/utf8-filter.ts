/**
 * The MCP SDK decodes stdin leniently, so bytes that are not UTF-8 would
 * reach the ledger as U+FFFD. This filter sits in front of it: lines that
 * are valid UTF-8 pass through untouched, and a line that is not is answered
 * here as a validation error (a tool error for tools/call, as any other bad
 * argument is) and never reaches the server.
 */
import { isUtf8 } from "node:buffer";
import { Transform } from "node:stream";
import { LedgerError } from "../../core/errors.js";

export function utf8Filter(answer: (message: object) => void): Transform {
  let pending: Buffer = Buffer.alloc(0);
  const check = (line: Buffer): Buffer | null => {
    if (isUtf8(line)) return line;
    const reply = refusal(line);
    if (reply) answer(reply);
    return null;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const out: Buffer[] = [];
      let start = 0;
      for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
        const line = check(buf.subarray(start, nl + 1));
        if (line) out.push(line);
        start = nl + 1;
      }
      pending = Buffer.from(buf.subarray(start));
      done(null, out.length ? Buffer.concat(out) : undefined);
    },
    flush(done) {
      const line = pending.length ? check(pending) : null;
      done(null, line ?? undefined);
    },
  });
}

/** The answer to a request that is not UTF-8, when it has an id to answer (notifications get none). */
function refusal(line: Buffer): object | null {
  let request: { id?: unknown; method?: unknown };
  try {
    request = JSON.parse(line.toString("utf8")) as typeof request;
  } catch {
    return null;
  }
  const id = request?.id;
  if (typeof id !== "string" && typeof id !== "number") return null;
  const error = new LedgerError("VALIDATION", "arguments: not valid UTF-8 text", {
    hint: "send text encoded as UTF-8; nothing was written",
    details: { issues: [{ field: "arguments", message: "invalid UTF-8" }] },
  });
  if (request.method === "tools/call") {
    return { jsonrpc: "2.0", id, result: { isError: true, content: [{ type: "text", text: JSON.stringify({ error: error.toJSON() }) }] } };
  }
  return { jsonrpc: "2.0", id, error: { code: -32700, message: error.message } };
}
