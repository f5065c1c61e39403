/** Hostile values for fuzzing every door: huge, control characters, deep nesting, wrong types, injections. */
import fc from "fast-check";

export const nasty = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "'; DROP TABLE work_orders; --",
    '" OR 1=1 --',
    "$(touch /tmp/workledger-pwned)",
    "`touch /tmp/workledger-pwned`",
    "; rm -rf / #",
    "../../../../etc/passwd",
    "\u0000\u0001\u001b[31m",
    "WO-",
    "WO-0",
    "-1",
    "1e309",
    "NaN",
    "9007199254740993",
    "99999999999999999999",
    "__proto__",
    "constructor",
    "🙂".repeat(300),
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER),
  fc.constant("x".repeat(300_000)),
);

/** JSON values including deep nesting and wrong shapes. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  nasty,
  fc.jsonValue({ maxDepth: 4 }),
  fc.dictionary(
    fc.constantFrom(
      "title",
      "items",
      "id",
      "ttl",
      "status",
      "fields",
      "body",
      "kind",
      "next",
      "lease_token",
      "if_revision",
      "priority",
      "files",
      "depends_on",
      "agent",
      "project",
      "__proto__",
    ),
    nasty,
    { maxKeys: 6 },
  ),
  fc.record({
    items: fc.array(fc.dictionary(fc.constantFrom("title", "priority", "files", "depends_on", "labels", "acceptance", "bogus"), nasty, { maxKeys: 4 }), { maxLength: 3 }),
  }),
);

/** Request bodies as sent: hostile JSON, deep nesting, and text that is not JSON at all. */
export const hostileBody: fc.Arbitrary<string> = fc.oneof(
  hostileJson.map((v) => JSON.stringify(v) ?? "null"),
  fc.constantFrom(
    "[".repeat(5000) + "]".repeat(5000),
    '{"items":' + "[".repeat(3000) + "]".repeat(3000) + "}",
    '{"title":"x"',
    "\u0000",
    "{}{}",
    '{"items":[{"title":"a"}],"items":7}',
  ),
  fc.string({ maxLength: 60 }),
);
