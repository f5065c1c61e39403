/** Small things every kind of test needs. */
import { fileURLToPath } from "node:url";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The path of a file in test/fixtures. */
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
