/** webhook add|list|pause|resume|test|delete: subscriptions to the ledger's events (admins; serve delivers). */
import type { Command } from "commander";
import type { Inputs } from "../../../core/schemas.js";
import type { PublicWebhook } from "../../../core/webhooks.js";
import { commaList, str, type Ctx, type Opts } from "../invocation.js";
import { c, shown, table } from "../output.js";
import { registerOperation } from "../operation.js";

const ID = { help: "the subscription's id (webhook list shows them)", flag: "--id <id>" };
/** Only an explicit -p scopes a subscription: WORKLEDGER_PROJECT would narrow it by surprise. */
const PROJECT = { read: (_o: Opts, ctx: Ctx) => str(ctx.flags.project) };
/** How long `webhook test` waits for a server to send the test message. */
const TEST_WAIT_MS = 20_000;

export function register(program: Command): void {
  const webhook = program
    .command("webhook")
    .description("subscriptions that receive the ledger's events, signed the Standard Webhooks way (admins; workledger serve delivers them)");

  registerOperation<PublicWebhook & { secret: string }>(webhook, {
    op: "webhookAdd",
    name: "add",
    description: "subscribe a URL to events (-p: only that project's); prints the signing secret this once",
    flags: {
      project: PROJECT,
      url: { help: "the http(s) URL that receives the events", flag: "--url <url>" },
      events: {
        help: "comma-separated event types, needs-human (blocked, dead-lettered, lease lost, verification failed), or * for all",
        flag: "--events <list>",
        read: (o) => commaList(o.events),
      },
      format: { help: "standard (default: Standard Webhooks JSON) or slack (a one-line message for an incoming-webhook URL)", flag: "--format <format>" },
      allow_private: { help: "let it reach private and loopback addresses (a receiver inside your network)", flag: "--allow-private" },
    },
    render: (w) => ({
      human: () => `subscription ${w.id} → ${shown(w.url)} (${w.events.join(", ")}${w.project ? ` in ${w.project}` : ""})\nsecret (shown once): ${w.secret}`,
    }),
  });

  registerOperation<PublicWebhook[]>(webhook, {
    op: "webhookList",
    name: "list",
    description: "every subscription with its state, cursor and health (never its secret)",
    flags: {},
    render: (list) => ({ human: () => listText(list) }),
  });

  const control = (op: string, name: string, description: string, done: (w: PublicWebhook) => string) =>
    registerOperation<PublicWebhook>(webhook, { op, name, description, flags: { id: ID }, render: (w) => ({ human: () => done(w) }) });
  control("webhookPause", "pause", "stop delivering to a subscription until resumed (its events wait)", (w) => `subscription ${w.id} paused at event ${w.cursor}`);
  control("webhookResume", "resume", "deliver to a paused or suspended subscription again, from where it stopped", (w) => `subscription ${w.id} active from event ${w.cursor}`);

  registerOperation<PublicWebhook>(webhook, {
    op: "webhookTest",
    name: "test",
    description: `ask the server to send a subscription a test message, and wait (up to ${TEST_WAIT_MS / 1000}s) for how it went`,
    flags: { id: ID },
    run: async (ledger, input) => {
      const { id: _id, ...who } = input as Inputs["webhook"];
      let w = await ledger.webhookTest(input as Inputs["webhook"]);
      for (const end = Date.now() + TEST_WAIT_MS; w.health.test_requested_at !== null && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 250));
        w = (await ledger.webhookList(who)).find((x) => x.id === w.id) ?? w;
      }
      return w;
    },
    runWhen: () => true,
    render: (w) => ({
      ...(w.health.test_requested_at === null ? {} : { exitCode: 7 }),
      human: () =>
        w.health.test_requested_at === null
          ? `subscription ${w.id}: test ${w.health.test_result ?? ""}`
          : c.yellow(`subscription ${w.id}: no server sent the test within ${TEST_WAIT_MS / 1000}s (workledger serve delivers webhooks; is one running on this ledger?)`),
    }),
  });

  control("webhookDelete", "delete", "delete a subscription", (w) => `subscription ${w.id} deleted`);
}

function listText(list: readonly PublicWebhook[]): string {
  if (list.length === 0) return c.dim("no webhook subscriptions");
  const head = ["ID", "STATE", "URL", "EVENTS", "PROJECT", "CURSOR", "DELIVERED", "LAST ERROR"].map(c.dim);
  return table([
    head,
    ...list.map((w) => [
      w.id,
      w.state === "active" ? c.green(w.state) : c.red(w.state),
      shown(w.url),
      w.events.join(","),
      w.project ?? "*",
      String(w.cursor),
      String(w.health.delivered),
      w.health.last_error ? shown(`${w.health.last_error} (${w.health.last_error_at})`) : "",
    ]),
  ]);
}
