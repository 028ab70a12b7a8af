import type { NatsConnection } from "@nats-io/transport-node";
import {
  type AccessControlOptions,
  type Bus,
  createAuditLog,
  createHttpApp,
  createOutboxRelay,
  type HealthCheck,
  type Logger,
  type Pool,
  registerAuditRoutes,
  type SealingKeys,
} from "@nexus/kit";
import { createChains } from "./backups/backup-chain.js";
import { registerBackupMetrics } from "./backups/backup-metrics.js";
import { registerBackupRoutes } from "./backups/backup-router.js";
import { asAppError, createBackupService } from "./backups/backup-service.js";
import { createBackupStore } from "./backups/backup-store.js";
import { rescanStorage } from "./backups/catalogue-rescan.js";
import { createNamespaceRestores } from "./backups/namespace-restore-service.js";
import { createRegistryClient, type RegistryClientConfig } from "./restore/registry-client.js";
import { createScheduleJob, type ScheduleConfig } from "./retention/schedule-job.js";
import { type BundleStorage, guardStorage } from "./storage/storage-types.js";

export const SERVICE_NAME = "backup";

export interface BackupConfig {
  rateLimitPerMinute?: number;
  /** Proxies believed for the client address (TRUST_PROXY). */
  trustProxy?: readonly string[];
  /** The service schemas backed up, in one snapshot. */
  schemas: readonly string[];
  /** Backup keys (active encrypts, any listed opens); null: bundles are not encrypted. */
  keys: SealingKeys | null;
  databaseUrl: string;
  /** This service's own schema (catalogue, outbox, audit). */
  schema: string;
  /** Publish backup.* events from the outbox (off only where no bus is wanted). */
  outboxRelay: boolean;
  /** Scheduled backups, drills and retention; absent: only the API takes backups. */
  schedule?: Omit<ScheduleConfig, "databaseUrl" | "schema"> | undefined;
  bodyLimit?: number;
  /** The config registry, which writes a namespace restore's layers (its admin token; null: not configured). */
  registry: RegistryClientConfig;
}

export interface BackupDeps {
  access: AccessControlOptions;
  logger: Logger;
  pool: Pool;
  nc: NatsConnection;
  bus: Bus;
  storage: BundleStorage;
  config: BackupConfig;
}

/** Compose the service. Nothing is scheduled or published until `workers.start()`. */
export async function buildApp(deps: BackupDeps) {
  const { logger, pool, bus, config } = deps;
  // Storage failures become 503 storage_unavailable, not 500s.
  const storage = guardStorage(deps.storage);
  const outboxChannel = `${config.schema}_outbox`;
  const relay = createOutboxRelay({
    pool,
    bus,
    logger,
    databaseUrl: config.databaseUrl,
    channel: outboxChannel,
  });

  const store = createBackupStore();
  const backups = createBackupService({
    pool,
    store,
    storage,
    bus,
    logger,
    schemas: config.schemas,
    keys: config.keys,
    outboxChannel,
    wakeOutbox: () => relay.wake(),
  });
  const namespaceRestores = createNamespaceRestores({
    pool,
    store,
    storage,
    keys: config.keys,
    registry: createRegistryClient(config.registry),
    logger,
    usableChain: createChains({ pool, store, storage, keys: config.keys }).usableChain,
    asAppError: (err) => asAppError(err, storage.description),
  });
  const schedule = config.schedule
    ? createScheduleJob({
        pool,
        store,
        storage,
        backups,
        logger,
        config: { ...config.schedule, databaseUrl: config.databaseUrl, schema: config.schema },
      })
    : undefined;

  const checks: HealthCheck[] = [
    { name: "postgres", critical: true, check: async () => void (await pool.query("SELECT 1")) },
    {
      name: "nats",
      critical: false,
      check: async () => {
        if (deps.nc.isClosed()) throw new Error("connection closed");
        await deps.nc.flush();
      },
    },
    { name: "storage", critical: false, check: async () => void (await storage.list("__health/")) },
  ];
  // Who took, verified or restored what (kit audit log, own schema).
  const audit = createAuditLog({ pool, logger });
  const http = await createHttpApp({
    service: SERVICE_NAME,
    description:
      "Backups of every service's data: streamed, compressed, checksummed, optionally encrypted bundles, each verified by a restore into a scratch schema; retention, whole-system restore, and one namespace restored to a point in time through the registry.",
    logger,
    checks,
    bodyLimit: config.bodyLimit ?? 64 * 1024,
    rateLimit: { perMinute: config.rateLimitPerMinute ?? 0, redis: null },
    trustProxy: config.trustProxy ?? [],
    access: { ...deps.access, audit },
  });
  registerBackupRoutes(http.app, { backups, namespaceRestores });
  registerBackupMetrics(http.metrics, pool);
  registerAuditRoutes(http.app, audit);

  return {
    ...http,
    services: { backups, namespaceRestores },
    schedule,
    relay,
    /** Add backups found in storage to the catalogue (done at start; after a lost database, the bundles are all there is). */
    rescan: () => rescanStorage({ pool, store, storage, logger }),
    workers: {
      async start() {
        await rescanStorage({ pool, store, storage, logger }).catch((err) =>
          logger.warn({ err }, `could not look for backups in ${storage.description}: ${err.message}`),
        );
        if (config.outboxRelay) {
          await bus.ensureStreams();
          await relay.start();
        }
        await schedule?.start();
      },
      async stop() {
        await schedule?.stop();
        await backups.settle();
        await namespaceRestores.settle();
        await relay.stop();
        await audit.close();
      },
    },
  };
}
export type BackupApp = Awaited<ReturnType<typeof buildApp>>;
