// The worker's half of bench/together.ts: say ready, wait for the go line.
export function readyThenGo() {
  process.stdout.write("ready\n");
  return new Promise((resolve) => process.stdin.once("data", () => resolve()));
}
