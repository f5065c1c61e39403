/** A project's policy after an admin's change: what the change gives, the rest as it was (null clears a cap). */
import type { Parsed } from "./schemas.js";
import type { ProjectPolicy } from "./types.js";

/** The settings of a policy change (inputs.setPolicy without who asks). */
export type PolicyChange = Omit<Parsed["setPolicy"], "project" | "agent" | "role">;

export function mergePolicy(before: ProjectPolicy, change: PolicyChange): ProjectPolicy {
  const {
    verification_authors,
    require_verification,
    max_hold,
    max_usd,
    max_tokens,
    max_attempts,
    prices,
    stages,
    done_stage,
    idle_limit,
    branch_prefix,
    prune_after,
    ...sandbox
  } = change;
  return {
    verification_authors: verification_authors ?? before.verification_authors,
    require_verification: require_verification ?? before.require_verification,
    max_hold_ms: max_hold === undefined ? before.max_hold_ms : max_hold,
    max_usd: max_usd === undefined ? before.max_usd : max_usd,
    max_tokens: max_tokens === undefined ? before.max_tokens : max_tokens,
    max_attempts: max_attempts === undefined ? before.max_attempts : max_attempts,
    prices: prices === undefined ? before.prices : prices,
    trusted_authors: sandbox.trusted_authors === undefined ? before.trusted_authors : sandbox.trusted_authors,
    verification_env: sandbox.verification_env ?? before.verification_env,
    verification_network: sandbox.verification_network ?? before.verification_network,
    require_sandbox: sandbox.require_sandbox ?? before.require_sandbox,
    stages: stages ?? before.stages,
    done_stage: done_stage === undefined ? before.done_stage : done_stage,
    idle_limit_ms: idle_limit === undefined ? before.idle_limit_ms : idle_limit,
    branch_prefix: branch_prefix ?? before.branch_prefix,
    prune_after_ms: prune_after === undefined ? before.prune_after_ms : prune_after,
  };
}
