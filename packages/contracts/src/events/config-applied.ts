import { z } from "zod";
import { ContentHash, EnvironmentName, NamespaceName } from "../identifiers.js";

export const CONFIG_APPLIED = "nexus.config.applied" as const;

/** Who reports: the consuming service's name and one running copy of it. */
export const ServiceName = z.string().min(1).max(100).describe("Name of the consuming service");
export const InstanceId = z
  .string()
  .min(1)
  .max(200)
  .describe("One running copy of the service; unique while it runs (e.g. host:pid:random)");

/** A resolved revision may be 0: the environment exists but nothing was ever written. */
export const ResolvedRevision = z.number().int().min(0);

const AppliedBase = z.object({
  schemaVersion: z.literal(1),
  service: ServiceName,
  instanceId: InstanceId,
  namespace: NamespaceName,
  environment: EnvironmentName,
  revision: ResolvedRevision.describe("The resolved revision this report is about"),
  hash: ContentHash.describe("sha256 of the canonical JSON of that revision's resolved content"),
  source: z
    .enum(["live", "cache"])
    .describe("`live`: fetched from Nexus; `cache`: the last-known-good copy on disk (Nexus unreachable)"),
  trigger: z
    .enum(["initial", "change", "resync", "recovered"])
    .describe(
      "Why the instance applied: start-up, a change (push, poll or catch-up), a resync command, or Nexus reachable again after running from cache",
    ),
  resyncRequestId: z
    .string()
    .max(200)
    .optional()
    .describe("The `requestId` of the resync command this answers, when it answers one"),
  appliedAt: z.iso.datetime({ offset: true }),
});

/**
 * A consuming instance reports what it did with a resolved revision: `applied` (it now runs it),
 * or `rejected` (its change handler or its schema refused it; it keeps running what it had).
 * Drift is computed from these and from heartbeats; acks may be lost, heartbeats repeat the state.
 */
export const ConfigApplied = z.discriminatedUnion("status", [
  AppliedBase.extend({ status: z.literal("applied") }),
  AppliedBase.extend({
    status: z.literal("rejected"),
    reason: z.string().min(1).max(2000).describe("Why the instance refused this revision"),
  }),
]);
export type ConfigApplied = z.infer<typeof ConfigApplied>;

export const configAppliedSubject = (d: Pick<ConfigApplied, "environment" | "namespace">) =>
  `${CONFIG_APPLIED}.${d.environment}.${d.namespace}`;
