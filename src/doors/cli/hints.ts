/** The CLI's dialect for error hints (core/hints.ts): commands and flags as this door spells them. */
import type { HintDialect } from "../../core/hints.js";
import { REQUIRED } from "../../core/validate.js";

/** `findUnclaimed` and `lease_token` as the CLI spells them: `find-unclaimed`, `lease-token`. */
export const kebab = (s: string) => s.replace(/[A-Z_]/g, (c) => `-${c.replace("_", "").toLowerCase()}`);
/** Operations whose command is not their name in kebab-case. */
const COMMAND: Record<string, string> = {
  createProject: "project create",
  setPolicy: "project set",
  verifyCommand: "verify",
  recordVerification: "verify",
  holding: "worktree",
  recordCheckpoint: "checkpoint",
  contextHistory: "context-pull --history",
};

export const CLI_DIALECT: HintDialect = {
  op: (name) => COMMAND[name] ?? kebab(name),
  // A switch set to true is the flag alone (`--new-project`, not `--new-project true`).
  field: (name, value) => `--${kebab(name)}${value === undefined || value === "true" ? "" : ` ${/\s/.test(value) ? JSON.stringify(value) : value}`}`,
};

/** A validation message in the CLI's words: a required field not given is its flag, named as missing ("--id is required"). */
export const cliMessage = (message: string) => message.replace(new RegExp(`(?<=^|; )([a-z_]+): ${REQUIRED}`, "g"), (_m, field: string) => `--${kebab(field)} is required`);
