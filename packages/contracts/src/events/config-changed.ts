import { z } from "zod";
import { ContentHash, EnvironmentName, NamespaceName, RevisionNumber } from "../identifiers.js";

export const CONFIG_CHANGED = "nexus.config.changed" as const;

/**
 * The resolved configuration of one (namespace, environment) changed. Carries revisions and
 * hashes, never values: a consumer fetches the resolved document under its own authorization.
 *
 * `revision` is the namespace revision now in effect for this environment; it only grows.
 * `trigger` says why: a write to a layer of this namespace (`write`, `rollback`), or a change that
 * alters the resolved result without a new revision of this namespace (`variables`, `dependency`
 * for `${ref:other-ns:...}`), in which case `revision` stays and `hash` moves.
 */
export const ConfigChanged = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  environment: EnvironmentName,
  revision: RevisionNumber,
  previousRevision: z.number().int().min(0).nullable(),
  hash: ContentHash,
  previousHash: ContentHash.nullable(),
  layer: z.string().describe("The layer that was written: `base` or an environment name"),
  changedPaths: z.array(z.string()).describe("JSON pointers of resolved keys that changed"),
  trigger: z.enum(["write", "rollback", "variables", "dependency"]),
  actor: z.string().min(1),
  source: z.string().min(1).describe("`api`, `nats`, `rollback:<n>`, `git:<repo>@<sha>`, ..."),
  rolloutGate: z
    .boolean()
    .optional()
    .describe(
      "Whether a wave rollout's gate was open on this (namespace, environment) when this change committed. false: no rollout can hold this revision, and the SDK applies it without asking the orchestrator; true or absent: it asks",
    ),
});
export type ConfigChanged = z.infer<typeof ConfigChanged>;

export const configChangedSubject = (d: Pick<ConfigChanged, "environment" | "namespace">) =>
  `${CONFIG_CHANGED}.${d.environment}.${d.namespace}`;
