/** The CLI's dialect for error hints (core/hints.ts): commands and flags as this door spells them. */
import type { HintDialect } from "../../core/hints.js";

/** `findUnclaimed` and `lease_token` as the CLI spells them: `find-unclaimed`, `lease-token`. */
export const kebab = (s: string) => s.replace(/[A-Z_]/g, (c) => `-${c.replace("_", "").toLowerCase()}`);
/** Operations whose command is not their name in kebab-case. */
const COMMAND: Record<string, string> = {
  createProject: "project create",
  setPolicy: "project set",
  verifyCommand: "verify",
  recordVerification: "verify",
  contextHistory: "context-pull --history",
};

export const CLI_DIALECT: HintDialect = {
  op: (name) => COMMAND[name] ?? kebab(name),
  field: (name, value) => `--${kebab(name)}${value === undefined ? "" : ` ${/\s/.test(value) ? JSON.stringify(value) : value}`}`,
};
