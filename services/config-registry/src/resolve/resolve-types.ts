import { type ConfigChanged, EnvironmentName, NamespaceName } from "@nexus/contracts";
import type { OutboxRows } from "@nexus/kit";
import { z } from "zod";
import type { DependencyMap, Dependent } from "./dependency-fns.js";

/** The materialised resolved document of one (namespace, environment). */
export interface ResolvedHead {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  /** The exact response body (JSON), so cache and database serve identical bytes. */
  body: string;
  /**
   * Commit order of this document (`resolved_heads.version`): a later commit of it has a larger
   * one, even when the revision stays. Known after the commit that stored it; the caches keep the
   * larger. Absent on heads not yet committed.
   */
  version?: number;
  /** `body` as UTF-8, kept by the in-process cache so a hit sends bytes without encoding them. */
  encoded?: Buffer;
  /**
   * Documents with secrets: the resolved content in its stored form (canonical JSON, secrets
   * encrypted), for secret-readers; `body` holds the redacted document. Never cached.
   */
  sealed?: string | null;
}

/**
 * A resolved head as a write reads it: the body may be left out when the process already holds
 * the document, then `comparable` carries it in the form `changedPaths` compares.
 */
export interface StoredHead {
  namespace: string;
  environment: string;
  revision: number;
  hash: string;
  body: string | null;
  comparable?: Record<string, unknown>;
}

/** Everything resolution needs to know about one namespace. */
export interface NamespaceState {
  name: string;
  environments: string[];
  variables: Record<string, string>;
  /** Layer name → content (base and environment overlays that exist). */
  layers: Map<string, Record<string, unknown>>;
  /** Layer name → head revision, for provenance. */
  layerRevisions: Map<string, number>;
  /** `namespaces.write_version` as read: a commit that writes this namespace's heads checks it. */
  writeVersion?: string;
  /**
   * Open wave-rollout gates, run id → environment, read with `writeVersion` (a gate change bumps
   * it); events of a gated environment say `rolloutGate: true`. Absent: not read, and events say
   * nothing (the SDK then asks).
   */
  rolloutGates?: Record<string, string>;
}

export const ResolvedParams = z.object({ ns: NamespaceName, env: EnvironmentName });
export const ResolvedQuery = z.object({
  explain: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => v === "true")
    .describe("Include, per key, the layer and revision its value came from"),
  revision: z.coerce
    .number()
    .int()
    .min(0)
    .max(2_147_483_647)
    .optional()
    .describe(
      "The configuration as of this namespace revision: the base layer and the environment's overlay as they were then, resolved with today's references, variables and secrets (the current document when the environment has not changed since). Not with `explain`.",
    ),
});

export const CompareQuery = z.object({
  from: EnvironmentName.describe("The environment compared from (e.g. staging)"),
  to: EnvironmentName.describe("The environment compared to (e.g. production)"),
});

/** What the write path already read about the target while locking it: saves four queries. */
export interface PreloadedTarget {
  /** Namespaces that read the target (without itself), with the pointers of it each reads. */
  dependents: Dependent[];
  /** Namespaces the target reads, as stored. */
  dependencies: DependencyMap;
  schema: Record<string, unknown> | null;
  resolved: StoredHead[];
}

/** The outcome of a recompute, not yet stored: new resolved heads and their events. */
export interface ResolutionPlan {
  heads: ResolvedHead[];
  outbox: OutboxRows;
  /**
   * New cross-namespace dependencies, by namespace: the target's, and those of readers whose
   * pointers changed with it (those readers are in `others`). Namespaces not named keep theirs.
   */
  dependencies: Map<string, DependencyMap>;
  /**
   * The other namespaces whose heads this plan writes, with the `write_version` they were read
   * at: the commit applies only if they are unchanged, and moves them on (see `commitWrite`).
   */
  others: { name: string; writeVersion: string }[];
}

export interface RecomputeRequest {
  /** The namespace whose state changed, with the change already applied (not yet stored). */
  target: NamespaceState;
  /** Replace the stored schema of the target (schema writes); null removes it. */
  schemaOverride?: Record<string, unknown> | null;
  /**
   * Only these environments can have changed (an overlay write); omitted = all (base, variables,
   * schema). Resolving only those saves the CPU of the others on every overlay write.
   */
  environments?: readonly string[];
  /**
   * A layer write: the pointers at which the written layer changed (`changedPaths` of its old
   * and new content). Only readers that read at, above or below one of them are re-resolved;
   * omitted = all readers (variables, environments, schema).
   */
  changedPointers?: readonly string[];
  /** Set when a layer was written: the new namespace revision. */
  newRevision?: number;
  trigger: ConfigChanged["trigger"];
  layer: string;
  actor: string;
  source: string;
  traceparent?: string | undefined;
  preloaded?: PreloadedTarget;
}
