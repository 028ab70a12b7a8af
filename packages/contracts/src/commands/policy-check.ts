import { z } from "zod";
import { PolicyViolation } from "../events/policy-violated.js";
import { EnvironmentName, NamespaceName } from "../identifiers.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply command served by the drift-detector, which owns policies: would this resolved
 * document break a policy of its environment? Meant as a blocking check before a write.
 */
export const POLICY_CHECK_COMMAND = "nexus.policy.cmd.check" as const;

export const PolicyCheckCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  environment: EnvironmentName,
  document: z.record(z.string(), z.unknown()).describe("The resolved document to check"),
});
export type PolicyCheckCommand = z.infer<typeof PolicyCheckCommand>;

export const PolicyCheckReply = z.union([
  z.object({
    ok: z.literal(true),
    passed: z.boolean(),
    policiesEvaluated: z.number().int().min(0),
    violations: z.array(PolicyViolation),
  }),
  CommandErrorReply,
]);
export type PolicyCheckReply = z.infer<typeof PolicyCheckReply>;
