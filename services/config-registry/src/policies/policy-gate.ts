import { POLICY_CHECK_COMMAND, PolicyCheckReply, type PolicyViolation } from "@nexus/contracts";
import { type Bus, ServiceUnavailableError, ValidationError } from "@nexus/kit";
import type { ResolvedHead } from "../resolve/resolve-types.js";

export interface PolicyGate {
  /** Refuses (422 policy_violation) a write whose resolved documents break a policy; checks in parallel. */
  check(heads: readonly Pick<ResolvedHead, "namespace" | "environment" | "body">[]): Promise<void>;
}

export interface PolicyGateOptions {
  bus: Pick<Bus, "requestCommand">;
  /** Environments whose writes are checked; empty: none. */
  environments: readonly string[];
  timeoutMs: number;
  /** When the drift-detector (which owns policies) does not answer: refuse (false) or let the write through. */
  failOpen: boolean;
}

/**
 * Policies as a blocking check on write: before a write commits, each resolved document it
 * changes in a checked environment is sent to the drift-detector's `nexus.policy.cmd.check`. The
 * documents go as served (secrets `"***"`), so no secret value travels on NATS.
 */
export function createPolicyGate(options: PolicyGateOptions): PolicyGate {
  return {
    async check(heads) {
      const checked = heads.filter((h) => options.environments.includes(h.environment));
      if (checked.length === 0) return;
      const results = await Promise.all(
        checked.map(async (h) => {
          const { content } = JSON.parse(h.body) as { content: Record<string, unknown> };
          try {
            const reply = await options.bus.requestCommand(
              POLICY_CHECK_COMMAND,
              { schemaVersion: 1, namespace: h.namespace, environment: h.environment, document: content },
              PolicyCheckReply,
              options.timeoutMs,
            );
            if (!reply.ok) throw new Error(reply.error.message);
            return { head: h, violations: reply.violations };
          } catch (err) {
            if (options.failOpen) return { head: h, violations: [] as PolicyViolation[] };
            throw new ServiceUnavailableError(
              "policy_check_unavailable",
              `The policy check for ${h.namespace}/${h.environment} did not answer, so the write was not applied; try again shortly.`,
              { cause: err },
            );
          }
        }),
      );
      const broken = results.filter((r) => r.violations.length > 0);
      if (broken.length === 0) return;
      const first = broken[0]!;
      const v = first.violations[0]!;
      throw new ValidationError(
        "policy_violation",
        `${first.head.namespace}/${first.head.environment} would break policy '${v.policyName}': ${v.message}`,
        {
          field: v.path,
          details: broken.map((b) => ({
            namespace: b.head.namespace,
            environment: b.head.environment,
            violations: b.violations,
          })),
        },
      );
    },
  };
}
