/** The CLI bundle's entry (dist/doors/cli/cli.js, run by the bin, main.ts): runs the program on this process's arguments. */
import { main } from "./program.js";

// A reader that stopped reading (`| head`) is not an error of ours: the write went through; say nothing more (seventeenth trials: a stack trace).
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });

// Not a top-level await: the bundle is CommonJS (see scripts/bundle-cli.mjs); main reports its own errors.
void main(process.argv);
