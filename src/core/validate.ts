import type { z } from "zod";
import { LedgerError } from "./errors.js";

/** Parse with a shared schema; failures become VALIDATION errors naming each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: formatPath(i.path), message: i.message }));
  const message = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ");
  throw new LedgerError("VALIDATION", message, {
    hint: "fix the named field and retry; nothing was written",
    details: { issues },
  });
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}
