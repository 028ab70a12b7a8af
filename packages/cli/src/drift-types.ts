/**
 * The drift-detector's response bodies as the CLI reads them (`nexus instances`, `nexus drift`),
 * each with the spec `drift-client.ts` checks it against. The shapes live once, in
 * @nexus/contracts (http/drift-instances.ts, http/drift-findings.ts), where the detector's routes
 * take them from: here they are type-only imports (the CLI does not load zod; see shape-fns.ts),
 * and the specs are the run-time structural check, kept equal to the contract's zod schemas by
 * test/unit/api-specs.test.ts. A nullable object can only be checked as `object|null` (a spec
 * cannot say more), so an instance list's head and an instance's rejection are checked for being
 * objects, not field by field.
 */
import type { FindingListDto, FindingQuery, InstancesDto } from "@nexus/contracts";
import type { z } from "zod";
import type { Spec } from "./shape-fns.js";

export type Instances = InstancesDto;
export type FindingList = FindingListDto;
/** The findings' filters, as query parameters (strings; the detector parses them). */
export type FindingFilter = { [K in keyof z.input<typeof FindingQuery>]?: string | undefined };

const LagSpec = { revisions: "number|null", seconds: "number|null" } as const satisfies Spec;
export const InstanceSpec = {
  instanceId: "string",
  service: "string",
  revision: "number|null",
  hash: "string|null",
  status: "string",
  lastSeenAt: "string",
  firstSeenAt: "string",
  lag: LagSpec,
  rejected: "object|null",
} as const satisfies Spec;
export const InstancesSpec = {
  namespace: "string",
  environment: "string",
  head: "object|null",
  items: [InstanceSpec],
} as const satisfies Spec;

const RevisionAndHashSpec = { revision: "number|null", hash: "string|null" } as const satisfies Spec;
export const FindingSpec = {
  id: "string",
  kind: "string",
  namespace: "string",
  environment: "string",
  service: "string|null",
  instanceIds: ["string"],
  expected: RevisionAndHashSpec,
  actual: RevisionAndHashSpec,
  severity: "string",
  status: "string",
  summary: "string",
  reason: "string|null",
  violations: "array|null",
  firstSeenAt: "string",
  lastSeenAt: "string",
  resolvedAt: "string|null",
  resolution: "string|null",
  reopenCount: "number",
  remediationAttempts: "number",
  escalatedAt: "string|null",
} as const satisfies Spec;
export const FindingListSpec = { items: [FindingSpec] } as const satisfies Spec;
