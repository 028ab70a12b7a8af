import type { NatsConnection } from "@nats-io/transport-node";
import {
  type AccessControlOptions,
  type Bus,
  type Consumption,
  createAuditLog,
  createHttpApp,
  createMetricsRegistry,
  createOutboxMetrics,
  createOutboxRelay,
  eventStreamCheck,
  type HealthCheck,
  type Logger,
  type Pool,
  registerAuditRoutes,
  registerBusMetrics,
  type Stoppable,
} from "@nexus/kit";
import { consumeChanges } from "./changes/change-consumer.js";
import { createChangeStore } from "./changes/change-store.js";
import { registerFindingRoutes } from "./findings/finding-router.js";
import { createFindingService } from "./findings/finding-service.js";
import { createFindingStore } from "./findings/finding-store.js";
import { createHeadStore } from "./heads/head-store.js";
import { createKnownTargets } from "./heads/known-targets.js";
import { createRegistryClient } from "./heads/registry-client.js";
import { createIngestWatermark } from "./inventory/ingest-watermark.js";
import { createInventoryBatcher } from "./inventory/inventory-batcher.js";
import { consumeInventory } from "./inventory/inventory-consumer.js";
import { createInventoryReadStore } from "./inventory/inventory-read-store.js";
import { registerInventoryRoutes } from "./inventory/inventory-router.js";
import { createInventoryStore } from "./inventory/inventory-store.js";
import { registerDriftMetrics } from "./metrics/drift-metrics.js";
import { createPolicyCache } from "./policies/policy-cache.js";
import { servePolicyCheck } from "./policies/policy-command.js";
import { registerPolicyRoutes } from "./policies/policy-router.js";
import { createPolicyService } from "./policies/policy-service.js";
import { createPolicyStore } from "./policies/policy-store.js";
import { createReconcileStore } from "./reconcile/reconcile-store.js";
import { createReconciler } from "./reconcile/reconciler.js";
import { registerRemediationRoutes } from "./remediation/remediation-router.js";
import { createRemediationService } from "./remediation/remediation-service.js";
import { createRemediationStore } from "./remediation/remediation-store.js";
import { createRetentionService } from "./retention/retention-service.js";
import { createRetentionStore } from "./retention/retention-store.js";
import { createDuties } from "./scan/duties.js";
import { createGitLayerStore } from "./source/git-layer-store.js";
import { consumeSourceEvents } from "./source/source-consumer.js";
import { createSourceDriftService } from "./source/source-service.js";

export const SERVICE_NAME = "drift-detector";

export interface DetectorConfig {
  /** Requests per minute per token, counted in this process (no Redis here); 0 or absent: no limit. */
  rateLimitPerMinute?: number;
  /** Proxies believed for the client address (TRUST_PROXY). */
  trustProxy?: readonly string[];
  databaseUrl: string;
  schema: string;
  outboxRelay: boolean;
  staleGraceMs: number;
  staleGraceByEnvironment: Record<string, number>;
  goneAfterMs: number;
  deleteAfterMs: number;
  flushIntervalMs: number;
  reconcileIntervalMs: number;
  quietMs: number;
  policyScanCron: string;
  /** Resolved findings and instance reports older than this go; 0 or absent keeps them. */
  retentionMaxAgeMs?: number;
  /** Default: hourly, at minute 17. */
  retentionCron?: string;
  remediationMaxAttempts: number;
  remediationRetryMs: number;
  registryTimeoutMs: number;
  /** Inventory messages handled at once (each waits for the next flush before its ack). */
  inventoryInFlight?: number;
  /** Redelivery of an unacked inventory message (a crashed detector's batch). Default 30 s. */
  inventoryAckWaitMs?: number;
  /** Redelivery of an unacked batch of config.changed. Default 30 s. */
  changesAckWaitMs?: number;
  /** How often a standby tries to take over the singleton duties. */
  leaseRetryMs?: number;
}

export interface DetectorDeps {
  logger: Logger;
  pool: Pool;
  nc: NatsConnection;
  bus: Bus;
  /** Authentication (OIDC, API tokens checked by the registry) for every HTTP route. */
  access: AccessControlOptions;
  config: DetectorConfig;
}

/** Compose the service. Nothing listens or consumes until `workers.start()`. */
export async function buildApp(deps: DetectorDeps) {
  const { logger, pool, bus, nc, config } = deps;

  const metrics = createMetricsRegistry(SERVICE_NAME);
  const relay = createOutboxRelay({
    pool,
    bus,
    logger,
    databaseUrl: config.databaseUrl,
    channel: `${config.schema}_outbox`,
    ...createOutboxMetrics(metrics, pool),
  });
  const wakeOutbox = () => relay.wake();

  const heads = createHeadStore();
  const inventory = createInventoryStore();
  const findings = createFindingStore();
  const remediations = createRemediationStore();
  const policyStore = createPolicyStore();
  const registry = createRegistryClient({ bus, timeoutMs: config.registryTimeoutMs });
  const findingService = createFindingService({ findings, bus });

  const batcher = createInventoryBatcher({
    write: (batch) => inventory.upsert(pool, batch),
    intervalMs: config.flushIntervalMs,
    logger,
  });
  const policies = createPolicyService({
    pool,
    logger,
    policies: policyStore,
    findings,
    findingService,
    heads,
    registry,
    modes: remediations,
    quietMs: () => 0,
    wakeOutbox,
  });
  const sourceDrift = createSourceDriftService({
    pool,
    logger,
    findings,
    findingService,
    gitLayers: createGitLayerStore(),
    modes: remediations,
    wakeOutbox,
  });
  const remediation = createRemediationService({
    pool,
    nc,
    bus,
    findings,
    remediations,
    logger,
    wakeOutbox,
  });
  // Set once the inventory consumers run; until then nothing is pending and the clock is the mark.
  let inventoryDurables: readonly string[] = [];
  const inventoryReads = createInventoryReadStore();
  const driftMetrics = registerDriftMetrics(metrics, { pool, findings, inventory: inventoryReads });
  const reconciler = createReconciler({
    pool,
    watermark: createIngestWatermark({
      nc,
      stream: () => bus.streams.events,
      durables: () => inventoryDurables,
    }),
    logger,
    reconcile: createReconcileStore(),
    findings,
    findingService,
    heads,
    inventory,
    registry,
    remediations,
    remediation,
    wakeOutbox,
    onPass: driftMetrics.onPass,
    config: {
      graceMs: { byEnvironment: config.staleGraceByEnvironment, defaultMs: config.staleGraceMs },
      quietMs: config.quietMs,
      goneAfterMs: config.goneAfterMs,
      deleteAfterMs: config.deleteAfterMs,
      remediation: { maxAttempts: config.remediationMaxAttempts, retryMs: config.remediationRetryMs },
    },
  });
  const retention = createRetentionService({
    pool,
    store: createRetentionStore(),
    logger,
    maxAgeMs: config.retentionMaxAgeMs ?? 0,
  });
  const duties = createDuties({
    databaseUrl: config.databaseUrl,
    schema: config.schema,
    logger,
    reconcileIntervalMs: config.reconcileIntervalMs,
    policyScanCron: config.policyScanCron,
    retentionCron: config.retentionCron ?? "0 17 * * * *",
    reconcile: () => reconciler.pass(),
    scanPolicies: () => policies.scan(),
    sweepRetention: () => retention.sweep(),
    ...(config.leaseRetryMs ? { lockRetryMs: config.leaseRetryMs } : {}),
  });

  const checks: HealthCheck[] = [
    { name: "postgres", critical: true, check: async () => void (await pool.query("SELECT 1")) },
    {
      name: "nats",
      critical: true,
      check: async () => {
        if (nc.isClosed()) throw new Error("connection closed");
        await nc.flush();
      },
    },
    eventStreamCheck(bus),
  ];
  const audit = createAuditLog({ pool, logger });
  const http = await createHttpApp({
    service: SERVICE_NAME,
    description:
      "Instance inventory, drift findings (stale, rejected, divergent, source, policy), compliance policies and remediation.",
    logger,
    checks,
    metrics,
    rateLimit: { perMinute: config.rateLimitPerMinute ?? 0, redis: null },
    trustProxy: config.trustProxy ?? [],
    access: { ...deps.access, audit },
  });
  const busMetrics = registerBusMetrics(metrics, bus);
  registerInventoryRoutes(http.app, { pool, reads: inventoryReads, heads });
  registerFindingRoutes(http.app, { pool, findings });
  registerPolicyRoutes(http.app, { policies });
  registerRemediationRoutes(http.app, { pool, remediations });
  registerAuditRoutes(http.app, audit);

  let consumptions: Consumption[] = [];
  let command: Stoppable | undefined;

  return {
    ...http,
    relay,
    batcher,
    duties,
    retention,
    reconciler,
    services: { policies },
    audit,
    workers: {
      /** Streams exist; inventory, heads and policy consumers run; duties compete for the lease. */
      async start() {
        busMetrics.start();
        await bus.ensureStreams();
        if (config.outboxRelay) await relay.start();
        batcher.start();
        consumptions = await Promise.all([
          consumeInventory({
            bus,
            batcher,
            targets: createKnownTargets({ pool, heads, registry }),
            inFlight: config.inventoryInFlight ?? 10_000,
            ackWaitMs: config.inventoryAckWaitMs ?? 30_000,
          }),
          consumeChanges({
            bus,
            pool,
            changes: createChangeStore(),
            policyCache: createPolicyCache({ pool, store: policyStore }),
            policies,
            sources: sourceDrift,
            ackWaitMs: config.changesAckWaitMs ?? 30_000,
          }),
          consumeSourceEvents({ bus, sources: sourceDrift }),
        ]);
        inventoryDurables = consumptions[0]?.durables ?? [];
        command = servePolicyCheck({ bus, policies });
        await duties.start();
      },
      /** Stop pulling, write (and so ack) what is batched, then release the lease and the relay. */
      async stop() {
        busMetrics.stop();
        await command?.stop();
        await Promise.all(consumptions.map((c) => c.stop()));
        await batcher.stop();
        await duties.stop();
        await relay.stop();
        await audit.close();
      },
    },
  };
}
export type DetectorApp = Awaited<ReturnType<typeof buildApp>>;
