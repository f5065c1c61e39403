/** Prometheus counters for attempts and spend (issue 16), fed by committed events, with a bound on the series token holders can create. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metrics } from "../../src/doors/http/metrics.ts";
import type { NewEvent } from "../../src/core/types.ts";

const ev = (type: NewEvent["type"], agent: string, data: Record<string, unknown> = {}): NewEvent => ({
  project: "p",
  wo: 1,
  type,
  agent,
  revision: 1,
  at: "2026-01-01T00:00:00.000Z",
  data,
});

describe("governance metrics", () => {
  it("count attempts by project and agent, and spend in USD and tokens by project, agent and phase", () => {
    const m = new Metrics();
    m.observeEvents([ev("claimed", "ann"), ev("claimed", "ann"), ev("claimed", "bob")]);
    m.observeEvents([
      ev("spend_recorded", "ann", { phase: "enrich", cost_usd: 0.1, tokens_in: 100, tokens_out: 7 }),
      ev("spend_recorded", "ann", { phase: "enrich", cost_usd: 0.2, tokens_in: 1, tokens_out: 0 }),
    ]);
    m.observeEvents([ev("spend_recorded", "bob", { phase: "execute", cost_usd: null, tokens_in: 5, tokens_out: 5 })]);
    const text = m.render({ all: true });
    assert.match(text, /^workledger_attempts_total\{project="p",agent="ann"\} 2$/m);
    assert.match(text, /^workledger_attempts_total\{project="p",agent="bob"\} 1$/m);
    assert.match(text, /^workledger_spend_usd_total\{project="p",agent="ann",phase="enrich"\} 0\.3$/m);
    assert.doesNotMatch(text, /workledger_spend_usd_total\{[^}]*agent="bob"/, "an unknown cost is not counted as zero dollars");
    assert.match(text, /^workledger_spend_tokens_total\{project="p",agent="ann",phase="enrich",direction="in"\} 101$/m);
    assert.match(text, /^workledger_spend_tokens_total\{project="p",agent="bob",phase="execute",direction="out"\} 5$/m);
    assert.match(text, /# TYPE workledger_spend_usd_total counter/);
  });

  it("show per-project series only to admins, and a project's to a token scoped to it (issue 24, finding 10)", () => {
    const m = new Metrics();
    m.observeEvents([ev("claimed", "ann"), { ...ev("claimed", "eve"), project: "payroll" }]);
    const series = (view: Parameters<Metrics["render"]>[0]) =>
      m
        .render(view)
        .split("\n")
        .filter((l) => l.startsWith("workledger_attempts_total{"));
    assert.equal(series({ all: true }).length, 2);
    assert.deepEqual(series({ project: "p" }), ['workledger_attempts_total{project="p",agent="ann"} 1']);
    assert.deepEqual(series(null), [], "an unscoped agent or reader token, or no token");
    assert.match(m.render(null), /^workledger_claims_total 2$/m, "the server's own figures stay");
  });

  it("keep at most 1000 label sets per family: the rest count under _other", () => {
    const m = new Metrics();
    for (let i = 0; i < 1500; i++) m.observeEvents([ev("claimed", `agent-${i}`)]);
    const lines = m
      .render({ all: true })
      .split("\n")
      .filter((l) => l.startsWith("workledger_attempts_total{"));
    assert.equal(lines.length, 1001);
    assert.ok(lines.includes('workledger_attempts_total{project="_other",agent="_other"} 500'));
  });
});
