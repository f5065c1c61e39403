import type { z } from "zod";
import { LedgerError } from "./errors.js";

/** The message of a required field that was not given (the CLI says which flag). */
export const REQUIRED = "required, not given";

/** Parse with a shared schema; failures become VALIDATION errors naming each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const given = (value ?? {}) as Record<string, unknown>;
  const missing = (field: string) => given[field] === undefined && r.error.issues.some((i) => i.path.length === 1 && i.path[0] === field);
  if (missing("agent")) throw noIdentity();
  if (missing("project")) throw noProject();
  // A required field left out is named as missing, not as malformed ("id: must be a number" misleads).
  // A field not given, at any depth (an item of a batch without its title): said as "required", not as the type it lacked.
  const parentOf = (path: readonly PropertyKey[]): unknown =>
    path.slice(0, -1).reduce<unknown>((o, k) => (typeof o === "object" && o !== null ? (o as Record<PropertyKey, unknown>)[k] : undefined), given);
  const absent = (i: z.core.$ZodIssue) => {
    if (!(i.code === "invalid_type" || i.code === "invalid_union") || i.path.length === 0) return false;
    const parent = parentOf(i.path);
    return typeof parent === "object" && parent !== null && (parent as Record<PropertyKey, unknown>)[i.path.at(-1)!] === undefined;
  };
  const issues = r.error.issues.flatMap((i) =>
    i.code === "unrecognized_keys"
      ? i.keys.map((k) => ({ field: formatPath([...i.path, k]), message: unknownField(schema, i.path) }))
      : [{ field: formatPath(i.path), message: absent(i) ? REQUIRED : i.message }],
  );
  const message = issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ");
  throw new LedgerError("VALIDATION", message, {
    hint: "fix the named field and retry; nothing was written",
    details: { issues },
  });
}

/** Fields the caller never gives itself: the door fills them. */
const FILLED_BY_DOOR = new Set(["agent", "role", "git"]);

/** "unknown field; valid: id, ttl, …": the fields the object at `path` takes (at the top level; nested ones name none). */
function unknownField(schema: z.ZodType, path: readonly PropertyKey[]): string {
  const shape = path.length === 0 ? (schema as unknown as { shape?: Record<string, unknown> }).shape : undefined;
  const valid = shape ? Object.keys(shape).filter((k) => !FILLED_BY_DOOR.has(k)) : [];
  return valid.length ? `unknown field; valid: ${valid.join(", ")}` : "unknown field";
}

/**
 * A create of one work order names its fields as given (`priority`), not as
 * the first item of a batch (`items[0].priority`).
 */
export function asOneItem(e: unknown): unknown {
  if (!(e instanceof LedgerError) || e.code !== "VALIDATION") return e;
  const strip = (s: string) => s.replace(/(^|; )items\[0\]\./g, "$1");
  const issues = (e.details?.issues as { field: string; message: string }[] | undefined)?.map((i) => ({ ...i, field: strip(i.field) }));
  return new LedgerError("VALIDATION", strip(e.message), {
    ...(e.hintTemplate === undefined ? {} : { hint: e.hintTemplate }),
    details: { ...e.details, ...(issues ? { issues } : {}) },
  });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes as text, refusing what is not UTF-8 (a lenient decoder would store U+FFFD in its place). */
export function utf8(bytes: Uint8Array, field: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new LedgerError("VALIDATION", `${field}: not valid UTF-8 text`, {
      hint: "send text encoded as UTF-8; nothing was written",
      details: { issues: [{ field, message: "invalid UTF-8" }] },
    });
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

export function noIdentity(): LedgerError {
  return new LedgerError("NO_IDENTITY", "no agent identity: every change is recorded under an agent name", {
    hint: "set WORKLEDGER_AGENT=NAME where workledger runs, or give {{agent=NAME}} (with a server, its token decides)",
    details: { issues: [{ field: "agent", message: "required" }] },
  });
}

export function noProject(): LedgerError {
  return new LedgerError("VALIDATION", "project: required, no project given", {
    hint: "give {{project=NAME}} (or set WORKLEDGER_PROJECT where workledger runs)",
    details: { issues: [{ field: "project", message: "required" }] },
  });
}
