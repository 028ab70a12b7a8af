import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { ConfigClient, type Held } from "./config-client.js";
import { otelEnvironment } from "./env.js";
import { NexusConfigError, reasonOf } from "./errors.js";
import { createHttpReader } from "./http-reader.js";
import { InstanceReports } from "./instance-reports.js";
import { createCacheWriter } from "./last-known-good.js";
import { type NatsLink, openNats } from "./nats-link.js";
import { createNatsReader } from "./nats-reader.js";
import { type ConnectConfigOptions, parseOptions, type Settings } from "./options.js";
import { startOwnTracing } from "./own-tracing.js";
import type { RegistryReader } from "./registry-reader.js";
import { createRolloutGate } from "./rollout-gate.js";
import { checkSchema } from "./schema-check.js";
import { loadInitial, startingRevision } from "./startup.js";
import { subjectsFor } from "./subjects.js";
import type { NexusConfig } from "./types.js";
import { SDK_VERSION } from "./version.js";

/** Where the first NATS connection may take this long before start-up goes on without it. */
const NATS_WAIT_WITH_HTTP_MS = 2_000;

/**
 * Connect to Nexus and return the resolved configuration of one (namespace, environment), kept
 * current: changes are pushed over NATS (or polled over HTTP), applied in order, acknowledged,
 * and kept on disk as last-known-good. Resolves once a first config is in hand (from Nexus, or
 * from the cache file when Nexus is unreachable); rejects with NexusConfigError otherwise.
 */
export async function connectConfig<T = Record<string, unknown>>(
  options: ConnectConfigOptions<T>,
): Promise<NexusConfig<T>> {
  const settings = parseOptions(options);
  const instanceId = settings.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const log = settings.logger;
  // Before the first read, so everything after it can be traced (a no-op unless OTEL_* ask).
  const releaseTracing = await startOwnTracing(settings.service, log, otelEnvironment());
  const link = await openNats(settings.nats, {
    name: `${settings.service}/${instanceId}`,
    // NATS-only: start-up keeps retrying reads (or starts from the cache) while it connects.
    waitMs: Math.min(
      settings.url ? NATS_WAIT_WITH_HTTP_MS : settings.startTimeoutMs,
      settings.requestTimeoutMs,
    ),
    logger: log,
  });
  const reader = createReader(settings, link);
  const check = (content: Record<string, unknown>) => {
    const result = checkSchema(settings.schema, content);
    return result.ok ? undefined : result.message;
  };

  const rollout = settings.rollouts
    ? createRolloutGate({
        namespace: settings.namespace,
        environment: settings.environment,
        subject: subjectsFor(settings.subjectPrefix, settings).rolloutTarget,
        service: settings.service,
        instanceId,
        labels: settings.labels,
        timeoutMs: settings.requestTimeoutMs,
      })
    : undefined;

  let client: ConfigClient<T> | undefined;
  try {
    const initial = await loadInitial({
      reader,
      target: settings,
      cacheFile: settings.cacheFile,
      startTimeoutMs: settings.startTimeoutMs,
      logger: log,
      check,
    });
    if (initial.source === "live")
      initial.document = await startingRevision(initial.document, {
        reader,
        gate: rollout,
        nc: link.nc,
        logger: log,
      });
    const checked = checkSchema(settings.schema, initial.document.content);
    const held: Held<T> = {
      document: initial.document,
      value: checked.ok ? checked.value : (undefined as T),
      source: initial.source,
    };
    const reports: InstanceReports = new InstanceReports({
      identity: {
        service: settings.service,
        instanceId,
        namespace: settings.namespace,
        environment: settings.environment,
      },
      prefix: settings.subjectPrefix,
      logger: log,
      timeoutMs: settings.requestTimeoutMs,
      heartbeatSeconds: settings.heartbeatSeconds,
      snapshot: () => current.snapshot(),
    });
    const cache = createCacheWriter(settings.cacheFile, (err) =>
      log.warn(
        { cacheFile: settings.cacheFile, err: reasonOf(err) },
        "nexus-client: could not write the last-known-good file",
      ),
    );
    client = new ConfigClient<T>(
      { settings, instanceId, reader, nats: link, reports, cache, rollout, releaseTracing },
      held,
    );
    const current: ConfigClient<T> = client;
    if (link.nc) client.attachNats(link.nc);
    if (!checked.ok) {
      // Nexus holds a config this service cannot run: refuse to start, and say so on the bus.
      const refused = client;
      client = undefined;
      await refused.abandon(`schema: ${checked.message}`);
      throw new NexusConfigError(
        "schema_validation_failed",
        `the resolved config of ${settings.namespace}/${settings.environment} (revision ${initial.document.revision}) fails the schema: ${checked.message}`,
        { details: { revision: initial.document.revision, hash: initial.document.hash } },
      );
    }
    const refusal = await applyFirst(settings, held.value);
    if (refusal !== undefined) {
      const refused = client;
      client = undefined;
      await refused.abandon(refusal);
      throw new NexusConfigError(
        "initial_rejected",
        `the first config of ${settings.namespace}/${settings.environment} (revision ${initial.document.revision}) was refused: ${refusal}`,
        { details: { revision: initial.document.revision, hash: initial.document.hash } },
      );
    }
    link.onLateConnect((nc) => current.lateAttach(nc));
    await client.start(initial.liveError);
    log.debug({ sdkVersion: SDK_VERSION, transport: reader.transport }, "nexus-client: started");
    return client;
  } catch (err) {
    await (client ? client.abandon() : link.close()).catch(() => undefined);
    if (!client) await releaseTracing?.().catch(() => undefined);
    throw err;
  }
}

/** Runs `applyInitial`; resolves to the refusal's reason, or undefined when the config was taken. */
async function applyFirst<T>(settings: Settings<T>, value: T): Promise<string | undefined> {
  if (!settings.applyInitial) return undefined;
  try {
    await settings.applyInitial(value);
    return undefined;
  } catch (err) {
    return reasonOf(err) || "the first config was refused";
  }
}

function createReader<T>(settings: Settings<T>, link: NatsLink): RegistryReader {
  if (settings.url) {
    return createHttpReader({
      url: settings.url,
      token: settings.token,
      namespace: settings.namespace,
      environment: settings.environment,
      timeoutMs: settings.requestTimeoutMs,
      userAgent: `nexus-client/${SDK_VERSION} (${settings.service})`,
    });
  }
  // NATS-only: the connection may come up after start-up, so bind to it at each read.
  const subject = subjectsFor(settings.subjectPrefix, settings).read;
  const bound = (): RegistryReader | null =>
    link.nc
      ? createNatsReader({ ...settings, nc: link.nc, subject, timeoutMs: settings.requestTimeoutMs })
      : null;
  const notConnected = () => Promise.reject(new NexusConfigError("unavailable", "NATS is not connected"));
  return {
    transport: "nats",
    read: (ifNoneMatch) => bound()?.read(ifNoneMatch) ?? notConnected(),
    // A wave rollout's held revision, for an instance starting mid-rollout (the command's `revision`).
    readAt: (revision) => bound()?.readAt?.(revision) ?? notConnected(),
  };
}
