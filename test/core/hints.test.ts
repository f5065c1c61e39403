/** Error hints are written once in neutral words and rendered per door (issue 14): no door is told another's flags. */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { LedgerError } from "../../src/core/errors.ts";
import { API_DIALECT, renderHint } from "../../src/core/hints.ts";
import { OPERATIONS } from "../../src/core/operations.ts";
import { CLI_DIALECT } from "../../src/doors/cli/hints.ts";
import { MCP_DIALECT } from "../../src/doors/mcp/tools.ts";

const core = new URL("../../src/core/", import.meta.url);
const sources = readdirSync(core)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => [f, readFileSync(new URL(f, core), "utf8")] as const);

describe("error hints", () => {
  it("render in each door's words", () => {
    const t = "pick another ({{op:findUnclaimed}}), or {{op:claim}} without {{exclusive_files}}; {{op:update}} {{status=open}}; {{op:createProject}}; {{verification=npm test}}";
    assert.equal(renderHint(t, API_DIALECT), "pick another (find_unclaimed), or claim without exclusive_files; update status=open; create_project; verification=npm test");
    assert.equal(renderHint(t, CLI_DIALECT), 'pick another (find-unclaimed), or claim without --exclusive-files; update --status open; project create; --verification "npm test"');
    // The MCP update tool takes WO fields inside `fields` (fifteenth trials: a hint said `update verification=…`), its status at the top.
    assert.equal(
      renderHint("{{op:update}} {{verification=npm test}}, or {{op:update}} {{status=open}} {{max_usd=6}}", MCP_DIALECT),
      'update fields={"verification":"npm test"}, or update status=open fields={"max_usd":6}',
    );
    assert.match(renderHint("give {{agent=NAME}}", MCP_DIALECT), /^give an agent name in this MCP server's settings/);
    // A list field is shown as a list (eighteenth MCP trial: `"depends_on":"…"` was refused).
    assert.equal(renderHint("{{op:update}} {{depends_on}}", MCP_DIALECT), 'update fields={"depends_on":[…]}');
    const e = new LedgerError("LEASE_LOST", "gone", { hint: "{{op:claim}} again with {{lease_token}}" });
    assert.equal(e.hint, "claim again with lease_token");
    assert.equal(e.toJSON(CLI_DIALECT).hint, "claim again with --lease-token");
    assert.equal(e.toJSON("template").hint, "{{op:claim}} again with {{lease_token}}");
  });

  it("in the core name only operations of the table, and never a CLI flag", () => {
    const names = new Set(OPERATIONS.map((o) => o.name));
    for (const [file, text] of sources) {
      for (const m of text.matchAll(/\{\{op:(\w+)\}\}/g)) assert.ok(names.has(m[1]!), `${file}: ${m[1]} is not an operation`);
      // A whole command line for an admin at the server (`workledger token create …`) is quoted as such.
      for (const m of text.matchAll(/hint:\s*([`"][^\n]*)/g)) assert.doesNotMatch(m[1]!.replace(/workledger [^;,)"]*/g, ""), /(^|[\s(])--[a-z]/, `${file}: ${m[1]}`);
    }
  });
});
