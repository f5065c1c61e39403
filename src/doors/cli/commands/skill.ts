/**
 * `workledger skill [--reference]`: prints the SKILL.md this package ships
 * (or SKILL-REFERENCE.md, every command's JSON), so an agent given SKILL.md
 * alone finds the reference it links to (twenty-seventh trials: no such file
 * beside the copy it was given).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { cliAction } from "../run.js";

const FILES = { skill: "SKILL.md", reference: "SKILL-REFERENCE.md" } as const;

export function register(program: Command): void {
  program
    .command("skill")
    .description("print SKILL.md, how an agent uses workledger (--reference: SKILL-REFERENCE.md, every command's JSON)")
    .option("--reference", "print SKILL-REFERENCE.md instead")
    .action(
      cliAction(async (o: { reference?: boolean }) => {
        const name = o.reference ? FILES.reference : FILES.skill;
        const text = readFileSync(new URL(`../../../../${name}`, import.meta.url), "utf8");
        return { data: { file: name, text }, human: () => text.trimEnd() };
      }),
    );
}
