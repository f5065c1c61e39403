/**
 * A deliberately simple reference model of DESIGN.md §4, written separately
 * from src/core so the property test can catch the real implementation
 * drifting from the rules.
 */
export type Status = "open" | "claimed" | "blocked" | "done" | "cancelled";
type Resting = Exclude<Status, "claimed">;

export interface ModelWo {
  title: string;
  status: Status;
  holder: string | null;
  token: number | null;
  expires: number | null;
  prior: Resting | null;
  fence: number;
  revision: number;
  /** How each agent's last lease ended: an expired one fences the agent by name until it claims again (DESIGN.md §9). */
  ended: Map<string, "expired" | "ended">;
  /** Who held the newest lease, and how it ended: only that agent, after ending it itself, may change the status of a WO nobody holds. */
  last: { agent: string; how: "live" | "expired" | "ended"; changed?: boolean } | null;
}

export type Outcome = { ok: true } | { ok: false; code: string };

const ALLOWED: Record<Resting, Resting[]> = { open: ["blocked", "done", "cancelled"], blocked: ["open", "done", "cancelled"], done: ["open"], cancelled: ["open"] };

export class Model {
  wos = new Map<number, ModelWo>();
  now: number;

  constructor(start: number) {
    this.now = start;
  }

  private fail(code: string): Outcome {
    return { ok: false, code };
  }

  /** Lazy expiry: a lapsed lease is recorded as ended (one revision) when anything touches the WO. */
  expire(w: ModelWo): void {
    if (w.holder !== null && (w.expires ?? 0) <= this.now) {
      w.ended.set(w.holder, "expired");
      w.last = { agent: w.holder, how: "expired" };
      Object.assign(w, { status: w.prior ?? "open", holder: null, token: null, expires: null, prior: null, revision: w.revision + 1 });
    }
  }

  expireAll(): void {
    for (const w of this.wos.values()) this.expire(w);
  }

  create(titles: string[]): Outcome {
    for (const title of titles)
      this.wos.set(this.wos.size + 1, { title, status: "open", holder: null, token: null, expires: null, prior: null, fence: 0, revision: 1, ended: new Map(), last: null });
    return { ok: true };
  }

  private load(id: number): ModelWo | null {
    const w = this.wos.get(id) ?? null;
    if (w) this.expire(w);
    return w;
  }

  private take(w: ModelWo, agent: string, ttl: number): void {
    w.fence += 1;
    w.ended.delete(agent);
    w.last = { agent, how: "live" };
    Object.assign(w, { prior: w.status as Resting, status: "claimed", holder: agent, token: w.fence, expires: this.now + ttl, revision: w.revision + 1 });
  }

  claim(agent: string, id: number, ttl: number): Outcome {
    const w = this.load(id);
    if (!w) return this.fail("NOT_FOUND");
    if (w.holder !== null) return this.fail("LEASE_HELD");
    if (w.status === "done" || w.status === "cancelled") return this.fail("ILLEGAL_TRANSITION");
    this.take(w, agent, ttl);
    return { ok: true };
  }

  claimNext(agent: string, ttl: number): Outcome {
    this.expireAll();
    const id = [...this.wos.entries()]
      .filter(([, w]) => w.status === "open")
      .map(([id]) => id)
      .sort((a, b) => a - b)[0];
    if (id === undefined) return this.fail("NOTHING_TO_CLAIM");
    this.take(this.wos.get(id)!, agent, ttl);
    return { ok: true };
  }

  /** A holder-only action on a WO nobody holds: never held by the agent (and no token), or its lease is gone. */
  private notHeld(w: ModelWo, agent: string, token: number | undefined): Outcome {
    return this.fail(token === undefined && !w.ended.has(agent) ? "NOT_HOLDER" : "LEASE_LOST");
  }

  /** Who may act: "holder", "free" (nobody holds it) or an error code. */
  private holding(w: ModelWo, agent: string, token: number | undefined): "holder" | "free" | string {
    const lapsed = w.ended.get(agent) === "expired";
    if (w.holder !== null) {
      if (token !== undefined && token !== w.token) return "LEASE_LOST";
      if (w.holder !== agent) return lapsed ? "LEASE_LOST" : "LEASE_HELD";
      return "holder";
    }
    return token !== undefined || lapsed ? "LEASE_LOST" : "free";
  }

  renew(agent: string, id: number, ttl: number, token?: number): Outcome {
    const w = this.load(id);
    if (!w) return this.fail("NOT_FOUND");
    const h = this.holding(w, agent, token);
    if (h === "free") return this.notHeld(w, agent, token);
    if (h !== "holder") return this.fail(h);
    Object.assign(w, { expires: this.now + ttl, revision: w.revision + 1 });
    return { ok: true };
  }

  release(agent: string, id: number, status?: Resting, token?: number): Outcome {
    const w = this.load(id);
    if (!w) return this.fail("NOT_FOUND");
    const h = this.holding(w, agent, token);
    if (h === "free") return this.notHeld(w, agent, token);
    if (h !== "holder") return this.fail(h);
    w.ended.set(agent, "ended");
    w.last = { agent, how: "ended" };
    Object.assign(w, { status: status ?? w.prior ?? "open", holder: null, token: null, expires: null, prior: null, revision: w.revision + 1 });
    return { ok: true };
  }

  /** The agent whose own release ended the newest lease, while nothing changed the WO since (status-rules.ts ownRelease). */
  private ownRelease(w: ModelWo, agent: string): boolean {
    return w.last?.agent === agent && w.last.how === "ended" && !w.last.changed;
  }

  update(agent: string, id: number, req: { title?: string; status?: Resting; ifRevision?: number; token?: number }): Outcome {
    const w = this.load(id);
    if (!w) return this.fail("NOT_FOUND");
    if (req.ifRevision !== undefined && req.ifRevision !== w.revision) return this.fail("REVISION_MISMATCH");
    // Nobody holds a done or cancelled WO: a token is moot, but a lapsed holder stays fenced.
    const h = w.status === "done" || w.status === "cancelled" ? (w.ended.get(agent) === "expired" ? "LEASE_LOST" : "free") : this.holding(w, agent, req.token);
    if (h !== "holder" && h !== "free") return this.fail(h);
    const holder = h === "holder";
    const titleChanges = req.title !== undefined && req.title !== w.title;
    // Without a lease, fields are edited only by the creator (obs here) or the agent whose own release ended the newest
    // lease, and never on a done or cancelled WO unless the same request reopens it.
    if (titleChanges && !holder) {
      const frozen = (w.status === "done" || w.status === "cancelled") && req.status !== "open";
      if (frozen) return this.fail("FORBIDDEN"); // its record: no claim makes it the caller's
      if (!this.ownRelease(w, agent)) return this.fail("NOT_HOLDER");
    }
    if (req.status !== undefined && !holder && req.status !== w.status && !ALLOWED[w.status as Resting].includes(req.status)) return this.fail("ILLEGAL_TRANSITION");
    const statusChanges = req.status !== undefined && (holder || req.status !== w.status);
    // Only the creator (obs, who does not act here) or an admin cancels.
    if (statusChanges && holder && req.status === "cancelled") return this.fail("FORBIDDEN");
    if (!titleChanges && !statusChanges) return { ok: true };
    // Without a lease, only the agent whose own release ended the newest lease changes the status (WOs here are the creator's, obs's),
    // and a done WO is its record: only an admin reopens it (none acts here).
    // A cancelled one, by its creator (obs, who does not act here); the releaser follows up once, from the state it left.
    if (statusChanges && !holder && (w.status === "done" || w.status === "cancelled" || req.status === "cancelled")) return this.fail("FORBIDDEN");
    if (statusChanges && !holder && !this.ownRelease(w, agent)) return this.fail("NOT_HOLDER");
    if (titleChanges) w.title = req.title!;
    if (statusChanges && holder) {
      w.ended.set(agent, "ended");
      w.last = { agent, how: "ended" };
    } else if (w.last) w.last.changed = true; // a change without a lease ends the releaser's right

    if (statusChanges) Object.assign(w, { status: req.status, holder: null, token: null, expires: null, prior: null });
    w.revision += 1;
    return { ok: true };
  }
}
