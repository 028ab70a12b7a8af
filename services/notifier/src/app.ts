import type { NatsConnection } from "@nats-io/transport-node";
import {
  type AccessControlOptions,
  type Bus,
  createAuditLog,
  createHttpApp,
  createMetricsRegistry,
  deriveKey,
  eventStreamCheck,
  type HealthCheck,
  type Logger,
  type OutboundPolicy,
  type Pool,
  parseAllowList,
  registerAuditRoutes,
  registerBusMetrics,
  type SealingKeys,
} from "@nexus/kit";
import { registerAlertRoutes } from "./alerts/alert-router.js";
import { createAlertService } from "./alerts/alert-service.js";
import { createAlertStore } from "./alerts/alert-store.js";
import { createGroupFlusher } from "./alerts/group-flusher.js";
import { createGroupStore } from "./alerts/group-store.js";
import { registerDeliveryRoutes } from "./delivery/delivery-router.js";
import { createDeliveryService } from "./delivery/delivery-service.js";
import { createDeliveryStore } from "./delivery/delivery-store.js";
import { createDeliveryWorker } from "./delivery/delivery-worker.js";
import type { LinkBases } from "./intake/event-alert-fns.js";
import { createEventConsumer } from "./intake/event-consumer.js";
import { registerIntakeRoutes } from "./intake/intake-router.js";
import { registerNotifierMetrics } from "./metrics/notifier-metrics.js";
import { createOutbound } from "./receivers/outbound.js";
import { createSenders } from "./receivers/senders.js";
import { createSlackPacing } from "./receivers/slack-pacing.js";
import { createRetentionJob, type RetentionConfig } from "./retention/retention-job.js";
import { createRetentionStore } from "./retention/retention-store.js";
import { registerRoutingRoutes } from "./routing/routing-router.js";
import { createRoutingService } from "./routing/routing-service.js";
import { createRoutingStore } from "./routing/routing-store.js";
import { registerSilenceRoutes } from "./silences/silence-router.js";
import { createSilenceService } from "./silences/silence-service.js";
import { createSilenceStore } from "./silences/silence-store.js";
import { createWorkerLoop } from "./worker-loop.js";

export const SERVICE_NAME = "notifier";

export interface NotifierConfig {
  /** Requests per minute per token, counted in this process (no Redis here); 0 or absent: no limit. */
  rateLimitPerMinute?: number;
  /** Proxies believed for the client address (TRUST_PROXY). */
  trustProxy?: readonly string[];
  alertmanagerToken?: string | undefined;
  links: LinkBases;
  outbound: {
    allowHttp: boolean;
    allowAddresses: readonly string[];
    timeoutMs: number;
    maxResponseBytes: number;
  };
  delivery: {
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    leaseMs: number;
    batchSize?: number;
  };
  slackIntervalMs: number;
  workerPollMs: number;
  consumeEvents: boolean;
  consumerConcurrency: number;
  bodyLimit: number;
  /** Receiver secrets are sealed with the active key and opened (any listed key) only to send. */
  secretsKeys: SealingKeys;
  /** Deleting old alerts, history and deliveries on a schedule; absent: nothing is deleted. */
  retention?: RetentionConfig | undefined;
  /** How long the routing config is cached before checking for a newer version. Default 1 s. */
  routingCacheMs?: number;
}

export interface NotifierDeps {
  /** Authentication (OIDC, API tokens checked by the registry) for every non-public route. */
  access: AccessControlOptions;
  logger: Logger;
  pool: Pool;
  nc: NatsConnection;
  bus: Bus;
  config: NotifierConfig;
}

/** Compose the service. Nothing consumes, flushes or sends until `workers.start()`. */
export async function buildApp(deps: NotifierDeps) {
  const { logger, pool, bus, config } = deps;
  const policy: OutboundPolicy = {
    allowHttp: config.outbound.allowHttp,
    allow: parseAllowList(config.outbound.allowAddresses),
  };

  const routingStore = createRoutingStore();
  const alertStore = createAlertStore();
  const groupStore = createGroupStore();
  const silenceStore = createSilenceStore();
  const deliveryStore = createDeliveryStore();
  const outbound = createOutbound({
    policy,
    timeoutMs: config.outbound.timeoutMs,
    maxResponseBytes: config.outbound.maxResponseBytes,
  });
  const metrics = createMetricsRegistry(SERVICE_NAME);
  const notifierMetrics = registerNotifierMetrics(metrics, { pool, deliveries: deliveryStore });
  const senders = createSenders({
    outbound,
    timeoutMs: config.outbound.timeoutMs,
    slackIntervalMs: config.slackIntervalMs,
    slackPacing: createSlackPacing({
      db: pool,
      digestKey: deriveKey(config.secretsKeys, "nexus notifier slack pacing v1"),
    }),
    maxPacingWaitMs: Math.max(2_000, config.slackIntervalMs * 3),
    dashboardUrl: config.links.dashboardUrl,
    onSlackPacing: notifierMetrics.onSlackPacing,
  });

  const routing = createRoutingService({
    pool,
    store: routingStore,
    policy,
    keys: config.secretsKeys,
    cacheMs: config.routingCacheMs,
    // A route that starts or stops asking for change notices takes effect before the save answers.
    onSaved: () =>
      (config.consumeEvents ? events.routingChanged() : Promise.resolve()).catch((err: unknown) =>
        logger.warn(
          { err },
          "could not start or stop change notices after the routing change; the next check will",
        ),
      ),
  });
  // Loops are created below; the services only need a way to wake them.
  const wake: { flusher: () => void; sender: () => void } = {
    flusher: () => undefined,
    sender: () => undefined,
  };
  const alerts = createAlertService({
    pool,
    alerts: alertStore,
    groups: groupStore,
    deliveries: deliveryStore,
    routing,
    maxAttempts: config.delivery.maxAttempts,
    wakeFlusher: () => wake.flusher(),
    wakeSender: () => wake.sender(),
  });
  const silences = createSilenceService({ pool, store: silenceStore, wake: () => wake.flusher() });
  const deliveries = createDeliveryService({ pool, store: deliveryStore, wakeSender: () => wake.sender() });
  const events = createEventConsumer({
    bus,
    pool,
    logger,
    alerts,
    routing,
    links: config.links,
    concurrency: config.consumerConcurrency,
    // As often as the loops look for work another instance made (WORKER_POLL_MS).
    checkEveryMs: config.workerPollMs,
    ingested: () => wake.flusher(),
  });

  const flusher = createGroupFlusher({
    pool,
    logger,
    alerts: alertStore,
    groups: groupStore,
    silences: silenceStore,
    deliveries: deliveryStore,
    routing,
    maxAttempts: config.delivery.maxAttempts,
    wakeSender: () => wake.sender(),
  });
  const worker = createDeliveryWorker({
    pool,
    logger,
    store: deliveryStore,
    alerts: alertStore,
    routing,
    senders,
    keys: config.secretsKeys,
    backoff: { baseMs: config.delivery.backoffBaseMs, maxMs: config.delivery.backoffMaxMs },
    leaseMs: config.delivery.leaseMs,
    batchSize: config.delivery.batchSize ?? 32,
    onRecorded: notifierMetrics.onRecorded,
  });
  const retention = config.retention
    ? createRetentionJob({ pool, store: createRetentionStore(), logger, config: config.retention })
    : undefined;
  const flushLoop = createWorkerLoop({
    name: "group flusher",
    logger,
    pollMs: config.workerPollMs,
    ...flusher,
  });
  const sendLoop = createWorkerLoop({
    name: "delivery sender",
    logger,
    pollMs: config.workerPollMs,
    ...worker,
  });
  wake.flusher = () => flushLoop.wake();
  wake.sender = () => sendLoop.wake();

  const checks: HealthCheck[] = [
    { name: "postgres", critical: true, check: async () => void (await pool.query("SELECT 1")) },
    {
      name: "nats",
      critical: config.consumeEvents,
      check: async () => {
        if (deps.nc.isClosed()) throw new Error("connection closed");
        await deps.nc.flush();
      },
    },
    eventStreamCheck(bus),
  ];
  // Who changed routing, silenced, acknowledged or re-sent what (kit audit log, own schema).
  const audit = createAuditLog({ pool, logger });
  const http = await createHttpApp({
    service: SERVICE_NAME,
    description: "Routes alerts and changes to Slack, PagerDuty, e-mail and webhooks; keeps the history.",
    logger,
    checks,
    metrics,
    bodyLimit: config.bodyLimit,
    rateLimit: { perMinute: config.rateLimitPerMinute ?? 0, redis: null },
    trustProxy: config.trustProxy ?? [],
    access: { ...deps.access, audit },
  });
  const busMetrics = registerBusMetrics(metrics, bus);
  registerRoutingRoutes(http.app, { routing });
  registerSilenceRoutes(http.app, { silences });
  registerAlertRoutes(http.app, { alerts });
  registerDeliveryRoutes(http.app, { deliveries });
  registerIntakeRoutes(http.app, { alerts, alertmanagerToken: config.alertmanagerToken });
  registerAuditRoutes(http.app, audit);

  return {
    ...http,
    services: { routing, alerts, silences, deliveries },
    audit,
    retention,
    workers: {
      async start() {
        busMetrics.start();
        flushLoop.start();
        sendLoop.start();
        await retention?.start();
        if (config.consumeEvents) await events.start();
      },
      async stop() {
        busMetrics.stop();
        await events.stop();
        await flushLoop.stop();
        await sendLoop.stop();
        await retention?.stop();
        await outbound.close();
        await audit.close();
      },
    },
  };
}
export type NotifierApp = Awaited<ReturnType<typeof buildApp>>;
