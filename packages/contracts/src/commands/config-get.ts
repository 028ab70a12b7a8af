import { z } from "zod";
import { SecretDigests } from "../http/resolved-config.js";
import { ContentHash, EnvironmentName, NamespaceName } from "../identifiers.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply command: read the resolved configuration of one (namespace, environment), like
 * `GET /v1/namespaces/{ns}/environments/{env}/resolved`, for clients that only talk NATS.
 * Sent to `nexus.config.cmd.get.<environment>.<namespace>` (see `configGetSubject`): the target is
 * in the subject so NATS permissions can limit a client to its own namespaces, and the registry
 * refuses a body naming another target than its subject. With `revision`, the document as of that
 * namespace revision, like `?revision=` (404 `revision_not_found`, field `revision`, past the newest).
 */
export const CONFIG_GET_COMMAND = "nexus.config.cmd.get" as const;

export const ConfigGetCommand = z.object({
  schemaVersion: z.literal(1),
  namespace: NamespaceName,
  environment: EnvironmentName,
  /** Like `If-None-Match`: the hash the caller holds; an unchanged document comes back without content. */
  ifNoneMatch: ContentHash.optional(),
  /**
   * As of this namespace revision, like `GET …/resolved?revision=n`: the base layer and the
   * environment's overlay as they were then, resolved with today's references, variables and
   * secrets. What an instance starting during a wave rollout runs while its wave holds an older
   * revision. The reply's `revision` is the newest of those layers' revisions at or below it.
   */
  revision: z.number().int().min(0).max(2_147_483_647).optional(),
});
export type ConfigGetCommand = z.infer<typeof ConfigGetCommand>;

export const configGetSubject = (d: Pick<ConfigGetCommand, "environment" | "namespace">) =>
  `${CONFIG_GET_COMMAND}.${d.environment}.${d.namespace}`;

const Found = z.object({
  ok: z.literal(true),
  namespace: NamespaceName,
  environment: EnvironmentName,
  revision: z.number().int().min(0),
  hash: ContentHash,
});

export const ConfigGetReply = z.union([
  Found.extend({
    notModified: z.literal(false),
    content: z.record(z.string(), z.unknown()),
    secretDigests: SecretDigests.optional(),
  }).describe("The resolved document"),
  Found.extend({ notModified: z.literal(true) }).describe("`ifNoneMatch` is still current; no content"),
  CommandErrorReply,
]);
export type ConfigGetReply = z.infer<typeof ConfigGetReply>;
