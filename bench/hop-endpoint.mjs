/**
 * The bare HTTP hop `serve` adds to each call (bench/run.ts serveThroughput):
 * a node:http server in a process of its own that reads the request body and
 * answers a small JSON document, doing nothing else. Prints its URL.
 */
import http from "node:http";

const server = http.createServer((req, res) => {
  req.resume();
  req.once("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
process.once("SIGTERM", () => server.close());
