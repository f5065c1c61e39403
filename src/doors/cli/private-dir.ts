/**
 * The CLI's state directory holds lease tokens and keep-alive sessions: a
 * directory another user owns, or one others may write, lets them swap what
 * this agent remembers (issue 24: a victim's release failed), so it is refused.
 */
import { statSync } from "node:fs";
import { LedgerError } from "../../core/errors.js";

export function assertPrivateDir(dir: string, what: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return; // absent: created with mode 0700 when first needed
  }
  const uid = process.getuid?.();
  const mode = `0${(st.mode & 0o777).toString(8)}`;
  const problem = uid !== undefined && st.uid !== uid ? `belongs to another user (uid ${st.uid})` : st.mode & 0o022 ? `is writable by others (mode ${mode})` : null;
  if (problem === null) return;
  throw new LedgerError("VALIDATION", `${what} ${dir} ${problem}: lease memory there could be swapped by them, so it is not used`, {
    hint: `use a directory of your own that only you can write (mkdir -m 700 DIR; or chmod go-w ${dir}), or WORKLEDGER_TOKEN_MEMORY=off`,
    details: { issues: [{ field: what, message: problem }] },
  });
}
