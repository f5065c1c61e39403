/** branch: the git side of a work order (issue 26). */
import type { Command } from "commander";
import { inputs } from "../../../core/schemas.js";
import { parse } from "../../../core/validate.js";
import { ensureBranch, type BranchResult } from "../../../exec/branch.js";
import { registerOperation, WO_ID } from "../operation.js";

export function register(program: Command): void {
  registerOperation<BranchResult & { project: string; id: number }>(program, {
    op: "branch",
    description: "print a work order's git branch (e.g. wo/53-fix-tokenizer-crash), creating it from the repository's default branch if it does not exist; nothing is checked out",
    flags: { id: WO_ID, dir: { help: "the git repository (default: the current directory)", flag: "--dir <path>" } },
    run: async (ledger, input) => {
      const { project, id, dir } = parse(inputs.branch, input);
      const wo = await ledger.get({ project, id });
      return { project, id, ...ensureBranch(dir ?? process.cwd(), wo.branch) };
    },
    render: (r) => ({ human: () => (r.created ? `${r.branch} (created from ${r.base})` : r.branch) }),
  });
}
