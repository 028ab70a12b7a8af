import type { NatsConnection } from "@nats-io/transport-node";
import { backoffDelay } from "./backoff.js";
import { contentHash } from "./content-hash.js";
import { isTransient, NexusConfigError, reasonOf } from "./errors.js";
import { readLastKnownGood } from "./last-known-good.js";
import type { ConfigLogger } from "./logger.js";
import type { RegistryReader, ResolvedDocument } from "./registry-reader.js";
import type { RolloutGate } from "./rollout-gate.js";
import type { ConfigSource } from "./types.js";

export interface StartupOptions {
  reader: RegistryReader;
  target: { namespace: string; environment: string };
  cacheFile: string | undefined;
  startTimeoutMs: number;
  logger: ConfigLogger;
  /** Returns an error message when the application's schema refuses the content. */
  check(content: Record<string, unknown>): string | undefined;
}

export interface StartupResult {
  document: ResolvedDocument;
  source: ConfigSource;
  /** Why the live read failed, when starting from the cache. */
  liveError?: unknown;
}

/** Read once from Nexus and check the document is what its hash says; throws NexusConfigError. */
export async function readVerified(reader: RegistryReader): Promise<ResolvedDocument> {
  const result = await reader.read();
  if (result.kind !== "document") {
    throw new NexusConfigError(
      "invalid_response",
      "the registry answered 'not modified' to a read without a hash",
    );
  }
  assertHash(result.document);
  return result.document;
}

export function assertHash(document: ResolvedDocument): void {
  if (contentHash(document.content, document.secretDigests) !== document.hash) {
    throw new NexusConfigError(
      "invalid_response",
      `the registry's document for revision ${document.revision} does not match its hash`,
    );
  }
}

/**
 * The first config: from Nexus if it answers; if Nexus is unreachable, from the last-known-good
 * file at once (a service must start while Nexus is down); with no usable file, keep trying
 * until `startTimeoutMs`. An answer from Nexus that will not change (unknown namespace, refused
 * token) is thrown at once, whatever the cache holds.
 */
export async function loadInitial(options: StartupOptions): Promise<StartupResult> {
  const { logger } = options;
  const deadline = Date.now() + options.startTimeoutMs;
  let cacheTried = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return { document: await readVerified(options.reader), source: "live" };
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (!cacheTried) {
        cacheTried = true;
        const cached = await fromCache(options);
        if (cached) {
          logger.warn(
            {
              revision: cached.revision,
              hash: cached.hash,
              cacheFile: options.cacheFile,
              err: reasonOf(err),
            },
            "nexus-client: Nexus is unreachable; starting from the last-known-good config, will catch up when it returns",
          );
          return { document: cached, source: "cache", liveError: err };
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new NexusConfigError(
          "unavailable",
          `Nexus was unreachable for ${options.startTimeoutMs} ms and there is no usable last-known-good config: ${reasonOf(err)}`,
          { cause: err },
        );
      }
      logger.warn({ attempt, err: reasonOf(err) }, "nexus-client: Nexus is unreachable at start, retrying");
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(left, backoffDelay(attempt, { baseMs: 250, maxMs: 5_000 }))),
      );
    }
  }
}

async function fromCache(options: StartupOptions): Promise<ResolvedDocument | undefined> {
  if (!options.cacheFile) return undefined;
  const loaded = await readLastKnownGood(options.cacheFile, options.target);
  if (!loaded.ok) {
    const level = loaded.reason === "missing" ? "info" : "warn";
    options.logger[level](
      { cacheFile: options.cacheFile, reason: loaded.reason, detail: loaded.message },
      "nexus-client: no usable last-known-good config",
    );
    return undefined;
  }
  const problem = options.check(loaded.document.content);
  if (problem) {
    options.logger.warn(
      { cacheFile: options.cacheFile, revision: loaded.document.revision, problem },
      "nexus-client: the last-known-good config no longer passes the schema; not using it",
    );
    return undefined;
  }
  return loaded.document;
}

/**
 * An instance starting during a wave rollout whose wave is not released yet starts on the revision
 * its wave still runs (`?revision=`), not the newest; it moves on when its wave is released, like
 * the instances that were running. When that cannot be read (an older registry, no answer) it
 * starts on the newest, as without rollouts, and says so.
 */
export async function startingRevision(
  document: ResolvedDocument,
  options: {
    reader: RegistryReader;
    gate: RolloutGate | undefined;
    nc: NatsConnection | undefined;
    logger: ConfigLogger;
  },
): Promise<ResolvedDocument> {
  const { reader, gate, logger } = options;
  if (!gate) return document;
  try {
    const answer = await gate.ask(options.nc, document.revision);
    if (answer.decision === "apply" || answer.holdRevision >= document.revision) return document;
    const at = { newest: document.revision, holdRevision: answer.holdRevision, rolloutId: answer.rolloutId };
    if (!reader.readAt) {
      logger.warn(
        at,
        "nexus-client: a wave rollout holds the newest revision, but this transport cannot read an older one; starting on the newest",
      );
      return document;
    }
    const past = await reader.readAt(answer.holdRevision);
    if (past.kind !== "document") return document;
    if (past.document.revision > answer.holdRevision) {
      // A registry that predates `revision` on NATS ignores it and answers with the newest.
      logger.warn(
        { ...at, answered: past.document.revision },
        "nexus-client: the registry did not serve the revision this instance's rollout wave runs; starting on the newest",
      );
      return document;
    }
    assertHash(past.document);
    logger.info(
      { ...at, revision: past.document.revision },
      "nexus-client: starting on the revision this instance's rollout wave runs",
    );
    return past.document;
  } catch (err) {
    logger.warn(
      { revision: document.revision, err: reasonOf(err) },
      "nexus-client: could not learn whether a wave rollout holds the newest revision; starting on it",
    );
    return document;
  }
}
