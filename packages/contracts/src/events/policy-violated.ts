import { z } from "zod";
import { DriftFinding } from "./drift-finding.js";

export const POLICY_VIOLATED = "nexus.policy.violated" as const;

/** One broken rule. Never carries the document's value (it may be a secret), only what was wanted. */
export const PolicyViolation = z.object({
  policyId: z.uuid(),
  policyName: z.string().min(1).max(200),
  path: z.string().describe("JSON path of the rule, e.g. `database.ssl`"),
  rule: z.enum(["required", "equals", "not-equals", "regex", "min", "max", "forbidden"]),
  message: z.string().min(1).max(500).describe("What the rule wants, in plain words"),
  severity: DriftFinding.shape.severity,
});
export type PolicyViolation = z.infer<typeof PolicyViolation>;

/**
 * A finding of kind `policy` opened: the resolved document of a (namespace, environment) breaks
 * one or more policies. Published once per finding (the set of broken rules may change while it
 * stays open); `drift.resolved` closes it.
 */
export const PolicyViolated = DriftFinding.extend({
  kind: z.literal("policy"),
  violations: z.array(PolicyViolation).min(1),
});
export type PolicyViolated = z.infer<typeof PolicyViolated>;

export const policyViolatedSubject = (d: Pick<PolicyViolated, "environment" | "namespace">) =>
  `${POLICY_VIOLATED}.${d.environment}.${d.namespace}`;
