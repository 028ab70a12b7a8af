import { POLICY_CHECK_COMMAND, PolicyCheckCommand, PolicyCheckReply } from "@nexus/contracts";
import { type Bus, DOCUMENT_COMMAND_MAX_BYTES, type Stoppable } from "@nexus/kit";
import type { PolicyService } from "./policy-service.js";

/**
 * `nexus.policy.cmd.check`: the violations a resolved document would have, for a blocking check
 * before a write (the registry does not call it yet).
 */
export function servePolicyCheck(deps: {
  bus: Pick<Bus, "serveCommand">;
  policies: Pick<PolicyService, "check">;
}): Stoppable {
  return deps.bus.serveCommand({
    subject: POLICY_CHECK_COMMAND,
    request: PolicyCheckCommand,
    reply: PolicyCheckReply,
    queue: "drift-detector",
    maxRequestBytes: DOCUMENT_COMMAND_MAX_BYTES,
    handler: async (cmd) => {
      const { evaluated, violations } = await deps.policies.check(
        cmd.namespace,
        cmd.environment,
        cmd.document,
      );
      return { ok: true as const, passed: violations.length === 0, policiesEvaluated: evaluated, violations };
    },
  });
}
