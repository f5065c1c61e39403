/** serve, token create|list|revoke, watch. */
import type { Command } from "commander";
import { LedgerError } from "../../../core/errors.js";
import { inputs, type Inputs } from "../../../core/schemas.js";
import { parse } from "../../../core/validate.js";
import type { LedgerEvent } from "../../../core/types.js";
import { isDirectory } from "../../../exec/worktree.js";
import { withLocal } from "../connect.js";
import { intervalMs, usage } from "../input.js";
import { parseDuration } from "../../../core/duration.js";
import { commaList, num, str, type Ctx } from "../invocation.js";
import { c, table } from "../output.js";
import * as render from "../render.js";
import { cliAction, untilSignal } from "../run.js";
import { pkgVersion } from "../version.js";

const wholeNumber = (v: unknown, field: string, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new LedgerError("VALIDATION", `${field}: must be a whole number from 0 to ${max}, got ${JSON.stringify(v)}`, {
      details: { issues: [{ field, message: "out of range" }] },
    });
  return n;
};

/** A duration flag of serve (--webhook-timeout 10s): at least `minMs`. */
const durationFlag = (v: unknown, field: string, minMs: number): number => {
  const ms = parseDuration(String(v));
  if (ms === null || ms < minMs) throw usage(field, `must be a duration like 10s or 5m (at least ${minMs}ms), got ${JSON.stringify(v)}`);
  return ms;
};

export function register(program: Command): void {
  program
    .command("serve")
    .description("serve the JSON HTTP API (bearer tokens, /openapi.json, /metrics, /v1/events) over this machine's store")
    .option("--port <n>", "port (0 picks a free one)", "7777")
    .option("--host <address>", "address to bind; non-loopback needs tokens to exist", "127.0.0.1")
    .option("--max-body <bytes>", "largest request body accepted", String(1 << 20))
    .option("--rate <n>", "sustained requests per second per token", "100")
    .option("--burst <n>", "requests a token may burst above the rate", "200")
    .option("--read-rate <n>", "rows (work orders, events, entries) a token may read per second", "5000")
    .option("--read-burst <n>", "rows a token may read in a burst above the read rate", "10000")
    .option("--public-metrics", "serve /metrics without a token (default: any valid token may read it)")
    .option("--max-connections <n>", "open connections at most; more are refused", "1024")
    .option("--max-connections-per-address <n>", "open connections from one address at most (default: a quarter of --max-connections; trusted proxies exempt)")
    .option("--max-streams <n>", "open event streams (/v1/events) per token at most", "16")
    .option("--webhook-timeout <duration>", "a webhook receiver must answer within this", "10s")
    .option("--webhook-retry-max <duration>", "failed deliveries are retried with exponential backoff (and jitter) up to this wait", "5m")
    .option("--webhook-suspend-after <duration>", "a subscription failing for this long is suspended (webhook resume restarts it)", "24h")
    .option("--archive-dir <dir>", "where the daily prune of projects with prune_after (project set --prune-after) writes what it removes; without it nothing is pruned")
    .option("--trust-proxy <list>", "comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For names the client (default: none)")
    .action(
      cliAction(async (o, ctx) => {
        // Loaded on demand: every other command starts faster without the HTTP stack.
        const [{ Metrics }, { startServer }, { Deliverer }, { DailyPrune }] = await Promise.all([
          import("../../http/metrics.js"),
          import("../../http/server.js"),
          import("../../http/deliverer.js"),
          import("../../daily-prune.js"),
        ]);
        const metrics = new Metrics();
        const archiveDir = str(o.archiveDir);
        if (archiveDir !== undefined && !isDirectory(archiveDir)) throw usage("archive-dir", `${archiveDir} is not a directory here`);
        let deliverer: InstanceType<typeof Deliverer> | undefined;
        const webhooks = {
          timeoutMs: durationFlag(o.webhookTimeout, "webhook-timeout", 100),
          retryMaxMs: durationFlag(o.webhookRetryMax, "webhook-retry-max", 100),
          suspendAfterMs: durationFlag(o.webhookSuspendAfter, "webhook-suspend-after", 1000),
          onDelivery: (result: "ok" | "error", seconds: number) => metrics.observeDelivery(result, seconds),
        };
        return withLocal(
          ctx,
          async (ledger) => {
            const server = await startServer({
              ledger,
              metrics,
              host: str(o.host) ?? "127.0.0.1",
              port: wholeNumber(o.port, "port", 65_535),
              maxBodyBytes: wholeNumber(o.maxBody, "max-body", 1 << 30),
              rateLimit: { perSecond: wholeNumber(o.rate, "rate", 1e9), burst: wholeNumber(o.burst, "burst", 1e9) },
              readLimit: { perSecond: wholeNumber(o.readRate, "read-rate", 1e9), burst: wholeNumber(o.readBurst, "read-burst", 1e9) },
              trustProxy: (str(o.trustProxy) ?? "").split(",").filter((s) => s.trim()),
              publicMetrics: o.publicMetrics === true,
              maxConnections: wholeNumber(o.maxConnections, "max-connections", 1e6),
              ...(o.maxConnectionsPerAddress === undefined ? {} : { maxConnectionsPerAddress: wholeNumber(o.maxConnectionsPerAddress, "max-connections-per-address", 1e6) }),
              maxStreamsPerToken: wholeNumber(o.maxStreams, "max-streams", 1e4),
              version: pkgVersion,
            });
            deliverer = new Deliverer(ledger, webhooks);
            deliverer.start();
            const pruner = new DailyPrune(ledger, archiveDir, (line) => process.stderr.write(`${line}\n`));
            pruner.start();
            process.stderr.write(`workledger ${pkgVersion} serving ${ledger.info.kind} ${ledger.info.location} on ${server.url}\n`);
            process.stderr.write(`webhooks: delivered by ${deliverer.owner}\n`);
            process.stderr.write(`dashboard: ${server.url}/ (sign in with a token from: workledger token create --as-admin --agent NAME --role admin|reader)\n`);
            const sig = await untilSignal();
            process.stderr.write(`${sig}: finishing in-flight requests\n`);
            await server.close();
            await deliverer.stop();
            await pruner.stop();
            return { data: { stopped: true, url: server.url }, human: () => "stopped" };
          },
          {
            onEvents: (e) => {
              metrics.observeEvents(e);
              deliverer?.wake();
            },
          },
        );
      }),
    );

  const token = program.command("token").description("API tokens for serve (stored hashed; the secret is shown once)");
  token
    .command("create")
    .description("create a token whose requests act as --agent")
    .usage("--agent NAME --role agent|admin|reader [--project P]")
    .requiredOption("--role <role>", "agent (read+write), admin (everything) or reader (read only)")
    .option("--can <capabilities>", "the most its holder may declare, comma-separated (e.g. review); default: whatever it declares")
    .addHelpText(
      "after",
      "\n--agent NAME (required): the identity requests with this token act as.\n--project P: limit the token to one project.\n" +
        "Both must be given as flags; WORKLEDGER_AGENT/WORKLEDGER_PROJECT are not used here.",
    )
    .action(
      cliAction(async (o, ctx) => {
        // --agent and --project are the global flags; read them as typed, never from the environment.
        const agent = str(ctx.flags.agent);
        if (agent === undefined)
          throw new LedgerError("VALIDATION", "agent: required, the identity this token's requests act as", {
            hint: "token create --as-admin --agent NAME --role agent",
            details: { issues: [{ field: "agent", message: "required" }] },
          });
        const t = await withLocal(ctx, (ledger) =>
          ledger.tokens.create({ agent, role: str(o.role), project: str(ctx.flags.project), can: commaList(o.can) } as Inputs["tokenCreate"], ctx.role),
        );
        return {
          data: t,
          human: () =>
            `token ${t.id} for ${t.agent} (${t.role}${t.project ? `, project ${t.project}` : ""}); shown once, keep it secret:\n` +
            `${c.bold(t.token)}\n\nexport WORKLEDGER_TOKEN=${t.token}`,
        };
      }),
    );
  token
    .command("list")
    .description("tokens with agent, role, project and whether revoked (never the secret)")
    .action(
      cliAction(async (_o, ctx) => {
        const list = await withLocal(ctx, (ledger) => ledger.tokens.list(ctx.role));
        return {
          data: list,
          human: () =>
            list.length
              ? table(list.map((t) => [t.id, t.agent, t.role, t.project ?? "*", t.revoked_at ? c.red(`revoked ${t.revoked_at}`) : c.green("active")]))
              : c.dim("no tokens"),
        };
      }),
    );
  token
    .command("revoke <id>")
    .description("revoke a token at once")
    .action(
      cliAction(async (_o, ctx, args) => {
        const t = await withLocal(ctx, (ledger) => ledger.tokens.revoke({ id: args[0] as string }, ctx.role));
        return { data: t, human: () => `revoked token ${t.id} (${t.agent})` };
      }),
    );

  program
    .command("watch")
    .description("stream ledger events as they happen (JSON lines with --json) until interrupted")
    .option("--after <seq>", "start after this event sequence number (default: only new events)")
    .option("--interval <duration>", "how often to look for new events (local mode)", "1s")
    .action(cliAction(async (o, ctx) => watch(ctx, num(o.after), str(o.interval) ?? "1s")));
}

async function watch(ctx: Ctx, afterArg: number | string | undefined, interval: string): Promise<{ data: undefined; human: () => string }> {
  const print = (e: LedgerEvent) => process.stdout.write((ctx.json ? JSON.stringify(e) : render.history([e])) + "\n");
  const stop = new AbortController();
  void untilSignal().then(() => stop.abort());
  const ms = intervalMs(interval, 10);
  const ledger = await ctx.ledger();
  // Without --after, show only what happens from now on.
  const after = afterArg === undefined ? await ledger.lastEventSeq(ctx.project) : (parse(inputs.events, { after: afterArg }).after ?? 0);
  await ledger.follow({ project: ctx.project, after, signal: stop.signal, pollMs: ms }, print);
  return { data: undefined, human: () => "" };
}
