import { DriftSeverity, EnvironmentName } from "@nexus/contracts";
import { z } from "zod";

/** `database.ssl`, `$.servers[0].host`, `servers.0.host`. */
export const JsonPath = z
  .string()
  .min(1)
  .max(300)
  .regex(
    /^(\$\.?)?[^.[\]]+(\.[^.[\]]+|\[\d+\])*$/,
    "must be a dotted JSON path like database.ssl or servers[0].host",
  );

const path = { path: JsonPath };
export const PolicyRule = z.discriminatedUnion("op", [
  z.object({ op: z.literal("required"), ...path }),
  z.object({ op: z.literal("equals"), ...path, value: z.unknown() }),
  z.object({ op: z.literal("not-equals"), ...path, value: z.unknown() }),
  z.object({ op: z.literal("regex"), ...path, pattern: z.string().min(1).max(500) }),
  z.object({ op: z.literal("min"), ...path, value: z.number() }),
  z.object({ op: z.literal("max"), ...path, value: z.number() }),
  z.object({ op: z.literal("forbidden"), ...path, values: z.array(z.unknown()).min(1).max(100) }),
]);
export type PolicyRule = z.infer<typeof PolicyRule>;

export const NamespacePattern = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9*?-]+$/, "must be a namespace name or a glob of one (`*`, `payments-*`)");

export const PolicyInput = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  environment: EnvironmentName,
  namespacePattern: NamespacePattern.default("*"),
  severity: DriftSeverity.default("warning"),
  rules: z.array(PolicyRule).min(1).max(200),
  enabled: z.boolean().default(true),
});
export type PolicyInput = z.infer<typeof PolicyInput>;

export const PolicyDto = PolicyInput.extend({
  id: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type PolicyDto = z.infer<typeof PolicyDto>;

export const PolicyParams = z.object({ id: z.uuid() });
