import type { NatsConnection } from "@nats-io/transport-node";
import { CONFIG_CHANGED } from "@nexus/contracts";
import {
  type Authenticator,
  type Bus,
  combineAuthenticators,
  createAuditLog,
  createHttpApp,
  createMetricsRegistry,
  createOutboxMetrics,
  createOutboxRelay,
  eventStreamCheck,
  type FailedAuthLimiter,
  type HealthCheck,
  type Logger,
  type Pool,
  parseAllowList,
  prepareOutboxRows,
  type Redis,
  registerBusMetrics,
} from "@nexus/kit";
import { createGitClient } from "./git-sources/git-client.js";
import { GIT_DEFAULTS, type GitConfig } from "./git-sources/git-config.js";
import { createGitImportService } from "./git-sources/git-import-service.js";
import { createGitSourceService } from "./git-sources/git-source-service.js";
import { createGitSourceStore } from "./git-sources/git-source-store.js";
import { createGitReconciler } from "./git-sources/git-sync.js";
import { createGitWebhookService } from "./git-sources/git-webhook-service.js";
import { createLayerService } from "./layers/layer-service.js";
import { createLayerStore } from "./layers/layer-store.js";
import {
  countedGitImports,
  countedReadCaches,
  registerConfigWriteMetrics,
} from "./metrics/registry-metrics.js";
import { createNamespaceService } from "./namespaces/namespace-service.js";
import { createNamespaceStore } from "./namespaces/namespace-store.js";
import { createPolicyGate } from "./policies/policy-gate.js";
import { createDependencyStore } from "./resolve/dependency-store.js";
import { createKnownDocuments } from "./resolve/known-documents.js";
import { createResolveCache } from "./resolve/resolve-cache.js";
import { createResolveHistory } from "./resolve/resolve-history.js";
import {
  createOwnChanges,
  createResolveMemoryCache,
  DEFAULT_MEMORY_TTL_MS,
} from "./resolve/resolve-memory-cache.js";
import { createResolveReadService } from "./resolve/resolve-read-service.js";
import { createResolveService } from "./resolve/resolve-service.js";
import { createResolveStore } from "./resolve/resolve-store.js";
import { createRevisionService } from "./revisions/revision-service.js";
import { createRevisionStore } from "./revisions/revision-store.js";
import { registerRoutes } from "./routes.js";
import { createSchemaService } from "./schemas/schema-service.js";
import { createSchemaStore } from "./schemas/schema-store.js";
import type { Keyring } from "./secrets/secret-crypto-fns.js";
import { createSecretService } from "./secrets/secret-service.js";
import { createSecretStore } from "./secrets/secret-store.js";
import { createTokenService } from "./tokens/token-service.js";
import { createTokenStore } from "./tokens/token-store.js";
import { createRegistryWorkers } from "./workers.js";
import { createChangeRequestService } from "./writes/change-request-service.js";
import { createChangeRequestStore } from "./writes/change-request-store.js";
import { createGroupCommitter, type GroupCommitOptions } from "./writes/group-commit.js";
import { createNamespaceChangeService } from "./writes/namespace-change-service.js";
import { createRestoreService } from "./writes/restore-service.js";
import { createWriteService } from "./writes/write-service.js";
import { createWriteStateCache } from "./writes/write-state-cache.js";
import { createWriteStore } from "./writes/write-store.js";

export const SERVICE_NAME = "config-registry";

export type { GitConfig };

/** Resolved documents held in memory at most (each a few KB). */
const MEMORY_CACHE_ENTRIES = 10_000;

export interface RegistryDeps {
  logger: Logger;
  pool: Pool;
  /** Null runs without a cache (reads from Postgres). */
  redis: Redis | null;
  nc: NatsConnection;
  bus: Bus;
  auth: {
    /** Key for API token digests (AUTH_TOKEN_KEY), shared with the other services. */
    tokenKey: Buffer;
    /** OIDC bearer JWTs, when an identity provider is configured. */
    oidc?: Authenticator | undefined;
    failures?: FailedAuthLimiter | undefined;
  };
  /** Master keys for secrets (SECRETS_MASTER_KEYS); absent or null: secrets cannot be written or revealed. */
  secretKeys?: Keyring | null;
  config: {
    databaseUrl: string;
    schema: string;
    defaultEnvironments: readonly string[];
    cacheTtlSeconds: number;
    /** In-process cache in front of Redis; 0 turns it off. */
    memoryCacheTtlMs?: number;
    bodyLimit: number;
    outboxRelay: boolean;
    /** Writes changing these environments are checked against the drift-detector's policies first. */
    policyCheck?: { environments: readonly string[]; timeoutMs: number; failOpen: boolean };
    /** Requests per minute per token, counted in Redis; 0 or absent: no limit. */
    rateLimitPerMinute?: number;
    /** Proxies believed for the client address (TRUST_PROXY). */
    trustProxy?: readonly string[];
    /** Writes reaching these environments by non-admins wait for an approver (default: none). */
    protectedEnvironments?: readonly string[];
    git?: Partial<GitConfig>;
    /** How concurrent writes share commit statements (`writes/group-commit.ts`); defaults there. */
    groupCommit?: GroupCommitOptions;
  };
}

/** Compose the service from its dependencies. Nothing listens or consumes until `workers.start()`. */
export async function buildApp(deps: RegistryDeps) {
  const { logger, pool, redis, bus, config } = deps;
  const outboxChannel = `${config.schema}_outbox`;

  const namespaceStore = createNamespaceStore();
  const dependencyStore = createDependencyStore();
  const layerStore = createLayerStore();
  const revisionStore = createRevisionStore();
  const schemaStore = createSchemaStore();
  const resolveStore = createResolveStore();
  const memory = createResolveMemoryCache({
    ttlMs: config.memoryCacheTtlMs ?? DEFAULT_MEMORY_TTL_MS,
    maxEntries: MEMORY_CACHE_ENTRIES,
  });
  const cache = createResolveCache({ redis, logger, ttlSeconds: config.cacheTtlSeconds, memory });
  const ownChanges = createOwnChanges(memory);
  const metrics = createMetricsRegistry(SERVICE_NAME);
  const relay = createOutboxRelay({
    pool,
    bus,
    logger,
    databaseUrl: config.databaseUrl,
    channel: outboxChannel,
    ...createOutboxMetrics(metrics, pool),
  });
  const wakeOutbox = () => relay.wake();
  const secrets = createSecretService({
    pool,
    store: createSecretStore(),
    keyring: deps.secretKeys ?? null,
    logger,
  });

  const known = createKnownDocuments();
  const heldWriteStates = createWriteStateCache();
  const resolve = createResolveService({
    dependencies: dependencyStore,
    layers: layerStore,
    schemas: schemaStore,
    resolved: resolveStore,
    prepareEvents: (events, traceparent) => {
      const rows = prepareOutboxRows(bus, CONFIG_CHANGED, events, { traceparent });
      ownChanges.expect(rows.ids, events);
      return rows;
    },
    secrets,
    known,
  });
  const policies =
    config.policyCheck && config.policyCheck.environments.length > 0
      ? createPolicyGate({ bus, ...config.policyCheck })
      : undefined;
  const gitConfig: GitConfig = { ...GIT_DEFAULTS, ...config.git };
  const gitAllow = parseAllowList(gitConfig.allowAddresses);
  const gitStore = createGitSourceStore();
  const layers = createLayerService({ pool, namespaces: namespaceStore, layers: layerStore, secrets });
  const writeStore = createWriteStore();
  const writes = createWriteService({
    pool,
    writes: writeStore,
    commits: createGroupCommitter({ pool, writes: writeStore, logger }, config.groupCommit),
    held: heldWriteStates,
    revisions: revisionStore,
    resolve,
    cache,
    known,
    wakeOutbox,
    handOver: (rows, places) => relay.handOver(rows, places),
    secrets,
    policies,
    onGitOverride: (namespace, layer, actor, revision) =>
      gitStore.markOverridden(pool, namespace, layer, actor, revision),
  });
  const restores = createRestoreService({ pool, writes: writeStore, known, write: writes });
  const namespaces = createNamespaceService({ pool, namespaces: namespaceStore });
  const namespaceChanges = createNamespaceChangeService({
    pool,
    namespaces: namespaceStore,
    dependencies: dependencyStore,
    resolved: resolveStore,
    resolve,
    cache,
    wakeOutbox,
    defaultEnvironments: config.defaultEnvironments,
    protectedEnvironments: config.protectedEnvironments ?? [],
  });
  const revisions = createRevisionService({
    pool,
    namespaces: namespaceStore,
    revisions: revisionStore,
    secrets,
  });
  const schemas = createSchemaService({
    pool,
    namespaces: namespaceStore,
    schemas: schemaStore,
    resolve,
    cache,
    wakeOutbox,
  });
  const reads = createResolveReadService({
    pool,
    ...countedReadCaches(metrics, memory, cache),
    namespaces: namespaceStore,
    resolved: resolveStore,
    resolve,
    secrets,
  });

  const history = createResolveHistory({
    pool,
    namespaces: namespaceStore,
    revisions: revisionStore,
    reads,
    resolve,
    secrets,
  });

  const changeRequests = createChangeRequestService({
    pool,
    store: createChangeRequestStore(),
    namespaces: namespaceStore,
    layerStore,
    revisions: revisionStore,
    layers: writes,
    secrets,
    bus,
    wakeOutbox,
    protectedEnvironments: config.protectedEnvironments ?? [],
  });

  const tokens = createTokenService({
    pool,
    tokens: createTokenStore(),
    bus,
    key: deps.auth.tokenKey,
    logger,
    wakeOutbox,
  });
  const audit = createAuditLog({ pool, logger });

  const git = createGitClient({
    cacheDir: gitConfig.cacheDir,
    timeoutMs: gitConfig.fetchTimeoutMs,
    processEnv: gitConfig.processEnv,
    allow: gitAllow,
  });
  const gitSources = createGitSourceService({
    pool,
    store: gitStore,
    namespaces: namespaceStore,
    secrets,
    allow: gitAllow,
  });
  const gitImports = countedGitImports(
    metrics,
    createGitImportService({
      pool,
      bus,
      git,
      store: gitStore,
      sources: gitSources,
      writes,
      wakeOutbox,
      logger,
    }),
  );
  const gitReconciler = createGitReconciler({
    pool,
    databaseUrl: config.databaseUrl,
    schema: config.schema,
    schedule: gitConfig.reconcileSchedule,
    git,
    store: gitStore,
    sources: gitSources,
    imports: gitImports,
    logger,
  });

  const checks: HealthCheck[] = [
    { name: "postgres", critical: true, check: async () => void (await pool.query("SELECT 1")) },
    {
      name: "nats",
      critical: true,
      check: async () => {
        if (deps.nc.isClosed()) throw new Error("connection closed");
        await deps.nc.flush();
      },
    },
    {
      name: "redis",
      critical: false,
      check: async () => {
        if (!redis) throw new Error("not configured");
        await redis.ping();
      },
    },
    eventStreamCheck(bus),
  ];
  const http = await createHttpApp({
    service: SERVICE_NAME,
    description: "Namespaces, layered and versioned configuration, resolution, schemas and history.",
    logger,
    checks,
    metrics,
    bodyLimit: config.bodyLimit,
    rateLimit: { perMinute: config.rateLimitPerMinute ?? 0, redis },
    trustProxy: config.trustProxy ?? [],
    access: {
      authenticator: combineAuthenticators({ apiTokens: tokens, oidc: deps.auth.oidc }),
      failures: deps.auth.failures,
      audit,
    },
  });
  const writeMetrics = registerConfigWriteMetrics(http.app, metrics);
  registerRoutes(http.app, {
    namespaces,
    namespaceChanges,
    layers,
    writes,
    restores,
    changeRequests,
    revisions,
    schemas,
    reads,
    history,
    secrets,
    tokens,
    audit,
    gitSources: { sources: gitSources, store: gitStore, imports: gitImports, pool },
    gitWebhooks: {
      bodyLimit: gitConfig.webhookMaxBytes,
      webhooks: createGitWebhookService({
        pool,
        bus,
        store: gitStore,
        sources: gitSources,
        wakeOutbox,
        logger,
        metrics: http.metrics,
        toleranceSeconds: gitConfig.webhookToleranceSeconds,
      }),
    },
  });

  return {
    ...http,
    services: {
      namespaces,
      namespaceChanges,
      layers,
      writes,
      revisions,
      schemas,
      reads,
      tokens,
      changeRequests,
      secrets,
      gitSources,
      gitImports,
    },
    gitReconciler,
    audit,
    relay,
    workers: createRegistryWorkers({
      bus,
      pool,
      relay,
      outboxRelay: config.outboxRelay,
      busMetrics: registerBusMetrics(metrics, bus),
      memory,
      heldWriteStates,
      ownChanges,
      commandWrites: writeMetrics.countedCommandWrites(writes),
      namespaces: namespaceStore,
      logger,
      reads,
      history,
      tokens,
      gitStore,
      gitSources,
      gitImports,
      gitReconciler,
      reconcile: gitConfig.reconcile,
      audit,
    }),
  };
}
export type RegistryApp = Awaited<ReturnType<typeof buildApp>>;
