/**
 * Where a long benchmark run is (issue 27): each scenario and timed phase says
 * so as it starts, on the sink bench() is given (stderr from `npm run bench`),
 * with the time since the run began, so a 20-minute run is never silent.
 */
let sink: (line: string) => void = () => undefined;
let began = Date.now();

export function progressTo(log: (line: string) => void): void {
  sink = log;
  began = Date.now();
}

export function progress(what: string): void {
  const s = Math.round((Date.now() - began) / 1000);
  sink(`[bench ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}] ${what}`);
}
