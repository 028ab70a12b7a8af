/**
 * @nexus/client: the SDK for services that consume configuration from Nexus.
 *
 *   const cfg = await connectConfig({ namespace, environment, service, url, nats, schema, cacheFile });
 *   cfg.get(); cfg.on("change", (next, previous, changedPaths) => ...); await cfg.close();
 */
export { backoffDelay, jitteredInterval } from "./backoff.js";
export { changedPaths } from "./changed-paths.js";
export { connectConfig } from "./connect.js";
export { contentHash } from "./content-hash.js";
export { isNexusConfigError, NexusConfigError, type NexusConfigErrorCode } from "./errors.js";
export { createHttpReader, resolvedUrl } from "./http-reader.js";
export type { ConfigLogFn, ConfigLogger } from "./logger.js";
export type { NatsCredentials } from "./nats-auth.js";
export type { ConfigSchema, ConnectConfigOptions } from "./options.js";
export type { ReadResult, RegistryReader, ResolvedDocument } from "./registry-reader.js";
export { DEFAULT_SUBJECT_PREFIX } from "./subjects.js";
export type { ChangeListener, ConfigSource, NexusConfig, Rejection } from "./types.js";
export { SDK_VERSION } from "./version.js";
