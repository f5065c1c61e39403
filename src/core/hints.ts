/**
 * Error hints say what to do next in neutral words, and each door renders
 * them in its own dialect, so no agent is told to use a flag of a door it is
 * not using. In a hint, `{{op:findUnclaimed}}` names an operation (of the
 * operation table), `{{lease_token}}` a field and `{{status=open}}` a field
 * with a value. The API dialect (HTTP, MCP, the library) writes
 * `find_unclaimed`, `lease_token` and `status=open`; the CLI's writes
 * `find-unclaimed`, `--lease-token` and `--status open` (cli/hints.ts).
 */
export interface HintDialect {
  op(name: string): string;
  /** `op`: the operation the hint named last, whose argument this field is. */
  field(name: string, value: string | undefined, op: string | undefined): string;
  /** Said once after a hint that named these operations (e.g. that one is not offered by this door). */
  after?(ops: readonly string[]): string;
}

export const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const API_DIALECT: HintDialect = {
  op: snake, // tool names are the operations' names in snake_case
  field: (name, value) => (value === undefined ? name : `${name}=${value}`),
};

export function renderHint(template: string, dialect: HintDialect): string {
  const ops: string[] = [];
  const text = template.replace(/\{\{(op:)?(\w+)(?:=([^}]*))?\}\}/g, (_m, op: string | undefined, name: string, value: string | undefined) => {
    if (op) ops.push(name);
    return op ? dialect.op(name) : dialect.field(name, value, ops.at(-1));
  });
  return text + (dialect.after?.(ops) ?? "");
}
