/** The CLI bundle's entry (dist/doors/cli/cli.js, run by the bin, main.ts): runs the program on this process's arguments. */
import { main } from "./program.js";

// Not a top-level await: the bundle is CommonJS (see scripts/bundle-cli.mjs); main reports its own errors.
void main(process.argv);
