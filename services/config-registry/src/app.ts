import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { AUTH_TOKEN_REVOKED, CONFIG_CHANGED } from "@nexus/contracts";
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
  registerAuditRoutes,
  registerBusMetrics,
  type Stoppable,
} from "@nexus/kit";
import { serveConfigCommands } from "./commands/config-command.js";
import { serveConfigReadCommands } from "./commands/config-read-command.js";
import { createGitClient } from "./git-sources/git-client.js";
import { serveGitResync } from "./git-sources/git-command.js";
import { createGitImportService } from "./git-sources/git-import-service.js";
import { registerGitSourceRoutes } from "./git-sources/git-source-router.js";
import { createGitSourceService } from "./git-sources/git-source-service.js";
import { createGitSourceStore } from "./git-sources/git-source-store.js";
import { consumeGitPushes, createGitReconciler } from "./git-sources/git-sync.js";
import { registerGitWebhookRoutes } from "./git-sources/git-webhook-router.js";
import { createGitWebhookService } from "./git-sources/git-webhook-service.js";
import { registerConfigContentParsers } from "./http/content-parsers.js";
import { registerSecretReadHeaders } from "./http/secret-read-headers.js";
import { registerLayerRoutes } from "./layers/layer-router.js";
import { createLayerService } from "./layers/layer-service.js";
import { createLayerStore } from "./layers/layer-store.js";
import {
  countedGitImports,
  countedReadCaches,
  registerConfigWriteMetrics,
} from "./metrics/registry-metrics.js";
import { registerNamespaceRoutes } from "./namespaces/namespace-router.js";
import { createNamespaceService } from "./namespaces/namespace-service.js";
import { createNamespaceStore } from "./namespaces/namespace-store.js";
import { createPolicyGate } from "./policies/policy-gate.js";
import { createKnownDocuments } from "./resolve/known-documents.js";
import { createResolveCache } from "./resolve/resolve-cache.js";
import { createResolveHistory } from "./resolve/resolve-history.js";
import {
  createOwnChanges,
  createResolveMemoryCache,
  DEFAULT_MEMORY_TTL_MS,
} from "./resolve/resolve-memory-cache.js";
import { createResolveReadService } from "./resolve/resolve-read-service.js";
import { registerResolveRoutes } from "./resolve/resolve-router.js";
import { createResolveService } from "./resolve/resolve-service.js";
import { createResolveStore } from "./resolve/resolve-store.js";
import { registerRevisionRoutes } from "./revisions/revision-router.js";
import { createRevisionService } from "./revisions/revision-service.js";
import { createRevisionStore } from "./revisions/revision-store.js";
import { registerSchemaRoutes } from "./schemas/schema-router.js";
import { createSchemaService } from "./schemas/schema-service.js";
import { createSchemaStore } from "./schemas/schema-store.js";
import type { Keyring } from "./secrets/secret-crypto-fns.js";
import { registerSecretRoutes } from "./secrets/secret-router.js";
import { createSecretService } from "./secrets/secret-service.js";
import { createSecretStore } from "./secrets/secret-store.js";
import { serveTokenIntrospection } from "./tokens/token-command.js";
import { registerTokenRoutes } from "./tokens/token-router.js";
import { createTokenService } from "./tokens/token-service.js";
import { createTokenStore } from "./tokens/token-store.js";
import { registerChangeRequestRoutes } from "./writes/change-request-router.js";
import { createChangeRequestService } from "./writes/change-request-service.js";
import { createChangeRequestStore } from "./writes/change-request-store.js";
import { registerWriteRoutes } from "./writes/write-router.js";
import { createWriteService } from "./writes/write-service.js";
import { createWriteStateCache } from "./writes/write-state-cache.js";
import { createWriteStore } from "./writes/write-store.js";

export const SERVICE_NAME = "config-registry";

export interface GitConfig {
  cacheDir: string;
  /** Cron pattern of the reconcile. */
  reconcileSchedule: string;
  /** Run the reconcile (under a lease); tests call `reconciler.runOnce()` instead. */
  reconcile: boolean;
  webhookMaxBytes: number;
  webhookToleranceSeconds: number;
  fetchTimeoutMs: number;
  /** What `git` runs with: where to find it (and its helpers), and a HOME; nothing else of ours. */
  processEnv: { PATH: string; HOME?: string | undefined };
  /** Loopback/private/link-local addresses (or CIDRs) Git sources may still reach; none by default. */
  allowAddresses: readonly string[];
}
const GIT_DEFAULTS: GitConfig = {
  cacheDir: join(tmpdir(), "nexus-git-cache"),
  reconcileSchedule: "*/3 * * * *",
  reconcile: true,
  webhookMaxBytes: 5 * 1024 * 1024,
  webhookToleranceSeconds: 300,
  fetchTimeoutMs: 120_000,
  processEnv: { PATH: "/usr/local/bin:/usr/bin:/bin" },
  allowAddresses: [],
};
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
  };
}

/** Compose the service from its dependencies. Nothing listens or consumes until `workers.start()`. */
export async function buildApp(deps: RegistryDeps) {
  const { logger, pool, redis, bus, config } = deps;
  const outboxChannel = `${config.schema}_outbox`;

  const namespaceStore = createNamespaceStore();
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
    namespaces: namespaceStore,
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
  const writes = createWriteService({
    pool,
    writes: createWriteStore(),
    held: heldWriteStates,
    revisions: revisionStore,
    resolve,
    cache,
    known,
    wakeOutbox,
    handOver: (rows) => relay.handOver(rows),
    secrets,
    policies,
    onGitOverride: (namespace, layer, actor, revision) =>
      gitStore.markOverridden(pool, namespace, layer, actor, revision),
  });
  const namespaces = createNamespaceService({
    pool,
    namespaces: namespaceStore,
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
  const busMetrics = registerBusMetrics(metrics, bus);
  registerConfigContentParsers(http.app);
  registerSecretReadHeaders(http.app);
  registerNamespaceRoutes(http.app, { namespaces });
  registerLayerRoutes(http.app, { layers });
  registerWriteRoutes(http.app, { writes, changeRequests });
  registerRevisionRoutes(http.app, { revisions });
  registerChangeRequestRoutes(http.app, { changeRequests });
  registerSchemaRoutes(http.app, { schemas });
  registerResolveRoutes(http.app, { reads, history });
  registerSecretRoutes(http.app, { secrets });
  registerTokenRoutes(http.app, { tokens });
  registerAuditRoutes(http.app, audit);
  registerGitSourceRoutes(http.app, { sources: gitSources, store: gitStore, imports: gitImports, pool });
  registerGitWebhookRoutes(http.app, {
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
  });

  let commands: Stoppable | undefined;
  let readCommands: Stoppable | undefined;
  let invalidations: Stoppable | undefined;
  let introspection: Stoppable | undefined;
  let revocations: Stoppable | undefined;
  let gitPushes: Stoppable | undefined;
  let gitResyncs: Stoppable | undefined;

  return {
    ...http,
    services: {
      namespaces,
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
    workers: {
      /**
       * Streams exist, the outbox relay runs (unless disabled), NATS commands are answered, and
       * other instances' changes evict this instance's in-memory resolved documents.
       */
      async start() {
        busMetrics.start();
        await bus.ensureStreams();
        invalidations = bus.subscribe(CONFIG_CHANGED, { skipId: ownChanges.heard }, (event) => {
          memory.invalidate(event.data.namespace, event.data.environment, event.data.hash);
          // Another instance wrote it: a held state would only lose its swap now.
          heldWriteStates.forget(event.data.namespace);
        });
        if (config.outboxRelay) await relay.start();
        commands = serveConfigCommands({ bus, writes: writeMetrics.countedCommandWrites(writes) });
        readCommands = serveConfigReadCommands({ bus, reads, history });
        introspection = serveTokenIntrospection({ bus, tokens });
        revocations = bus.subscribe(AUTH_TOKEN_REVOKED, {}, (event) => tokens.evict(event.data.tokenId));
        gitPushes = await consumeGitPushes({ bus, pool, store: gitStore, imports: gitImports });
        gitResyncs = serveGitResync({ bus, sources: gitSources, imports: gitImports });
        if (gitConfig.reconcile) await gitReconciler.start();
      },
      async stop() {
        busMetrics.stop();
        await commands?.stop();
        await readCommands?.stop();
        await invalidations?.stop();
        await introspection?.stop();
        await revocations?.stop();
        await gitPushes?.stop();
        await gitResyncs?.stop();
        await gitReconciler.stop();
        await relay.stop();
        await audit.close();
      },
    },
  };
}
export type RegistryApp = Awaited<ReturnType<typeof buildApp>>;
