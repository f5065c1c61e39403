/**
 * Issue 30, items 2 and 3: the document at /openapi.json is one tools accept
 * (Redocly's recommended rules, with the committed redocly.yaml: no errors,
 * no warnings), every operation behind a token documents its 4XX with the
 * error body and codes, and a client compiled against the types
 * openapi-typescript generates from it claims, renews and releases through a
 * real server, whose every answer the document describes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import type { Ledger } from "../../src/core/ledger.ts";
import { startServer, type RunningServer } from "../../src/doors/http/server.ts";
import { openLedger } from "../../src/index.ts";

/** One exchange of the typed client (test/fixtures/typed-client.ts), as the document names its path. */
interface Exchange {
  path: string;
  method: string;
  status: number;
  code?: string;
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Doc {
  paths: Record<string, Record<string, { operationId: string; security?: unknown[]; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
}

/** The `code` enum of a documented error response (its schema is the Error component narrowed to these codes). */
function codesOf(response: { content?: Record<string, { schema: unknown }> }): string[] {
  const schema = response.content?.["application/json"]?.schema as { allOf?: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }[] } | undefined;
  return schema?.allOf?.flatMap((s) => s.properties?.error?.properties?.code?.enum ?? []) ?? [];
}

describe("OpenAPI: a document tools accept, and a typed client built from it (issue 30)", () => {
  let dir: string;
  let ledger: Ledger;
  let server: RunningServer;
  let doc: Doc;
  const tokens: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "workledger-openapi-"));
    ledger = await openLedger({ db: join(dir, "ledger.db") });
    for (const name of ["alice", "bob"]) tokens[name] = (await ledger.tokens.create({ agent: name, role: "agent" }, "admin")).token;
    server = await startServer({ ledger, host: "127.0.0.1", port: 0, version: "test" });
    doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc;
    writeFileSync(join(dir, "openapi.json"), JSON.stringify(doc));
  });
  after(async () => {
    await server.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes Redocly's recommended rules with no error and no warning", () => {
    const bin = join(ROOT, "node_modules", ".bin", "redocly");
    let out: string;
    try {
      out = execFileSync(bin, ["lint", join(dir, "openapi.json"), "--config", join(ROOT, "redocly.yaml"), "--format", "json"], {
        encoding: "utf8",
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      out = (e as { stdout?: string }).stdout ?? "";
    }
    const report = JSON.parse(out.slice(out.indexOf("{"))) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    assert.deepEqual(
      report.problems.map((p) => `${p.ruleId}: ${p.message}`),
      [],
    );
    assert.deepEqual({ errors: report.totals.errors, warnings: report.totals.warnings }, { errors: 0, warnings: 0 });
  });

  it("every operation behind a token documents its refusals as 4XX responses with the error body and their codes", () => {
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (op.security?.length === 0) continue; // public: /healthz, /openapi.json
        const fours = Object.keys(op.responses).filter((s) => /^4\d\d$/.test(s));
        assert.ok(fours.includes("401") && fours.includes("403"), `${method} ${path} documents 401 and 403`);
        for (const status of fours) assert.ok(codesOf(op.responses[status]!).length > 0, `${method} ${path} ${status} names its codes`);
      }
    }
    const claim = doc.paths["/v1/projects/{project}/wos/{id}/claim"]!.post!;
    assert.ok(codesOf(claim.responses["409"]!).includes("LEASE_HELD"));
    assert.ok(codesOf(claim.responses["410"]!).includes("LEASE_LOST"));
    assert.ok(codesOf(claim.responses["404"]!).includes("NOTHING_TO_CLAIM"));
  });

  it("a client compiled against the generated types claims, renews and releases, and each answer is one the document describes", async () => {
    writeFileSync(join(dir, "api.d.ts"), astToString(await openapiTS(JSON.parse(readFileSync(join(dir, "openapi.json"), "utf8")))));
    const client = join(dir, "client.ts");
    copyFileSync(join(ROOT, "test", "fixtures", "typed-client.ts"), client);
    const program = ts.createProgram([client], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      types: [],
      skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    assert.deepEqual(problems, [], "the client compiles against the document's types");

    const { session } = (await import(pathToFileURL(client).href)) as { session: (url: string, a: string, b: string) => Promise<Exchange[]> };
    const log = await session(server.url, tokens.alice!, tokens.bob!);
    assert.equal(log.length, 6);
    for (const x of log) {
      const response = doc.paths[x.path]?.[x.method]?.responses[String(x.status)];
      assert.ok(response, `${x.method} ${x.path} answered ${x.status}, which the document lists`);
      if (x.code) assert.ok(codesOf(response).includes(x.code), `${x.code} is among the codes the document gives for ${x.status}`);
    }
  });
});
