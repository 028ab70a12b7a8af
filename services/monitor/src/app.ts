import type { NatsConnection } from "@nats-io/transport-node";
import {
  type AccessControlOptions,
  type Bus,
  type Consumption,
  createAuditLog,
  createHttpApp,
  createOutboxRelay,
  eventStreamCheck,
  type HealthCheck,
  type Logger,
  type Pool,
  registerAuditRoutes,
  type Stoppable,
} from "@nexus/kit";
import { createAlertEvaluator } from "./alerts/alert-evaluator.js";
import { alertDto, mayViewAlert, registerAlertRoutes } from "./alerts/alert-router.js";
import { createAlertStore, createFindingStore } from "./alerts/alert-store.js";
import { createCertificateSource } from "./alerts/certificate-source.js";
import { consumeFindings } from "./alerts/finding-consumer.js";
import { createTokenExpirySource } from "./alerts/token-expiry-source.js";
import { consumeBackupOutcomes } from "./backups/backup-consumer.js";
import { createBackupStatusStore } from "./backups/backup-store.js";
import { subscribeApplied } from "./dashboard/applied-hints.js";
import { registerCompareRoutes } from "./dashboard/compare-router.js";
import { registerDashboardRoutes } from "./dashboard/dashboard-router.js";
import { createDashboardService, mayView } from "./dashboard/dashboard-service.js";
import { createDriftClient } from "./dashboard/drift-client.js";
import { createLiveHub } from "./dashboard/live-hub.js";
import { createNotifierClient } from "./dashboard/notifier-client.js";
import { subscribePipelineHints } from "./dashboard/pipeline-hints.js";
import { registerPipelineRoutes } from "./dashboard/pipeline-router.js";
import {
  createOrchestratorClient,
  createRegistryClient,
  createRelayClient,
} from "./dashboard/relay-client.js";
import { registerRevisionRoutes } from "./dashboard/revision-router.js";
import { registerRolloutRoutes } from "./dashboard/rollout-router.js";
import { consumeHeads, subscribeHeads } from "./heads/head-consumer.js";
import { createHeadStore } from "./heads/head-store.js";
import { registerHealthMetrics } from "./health/health-metrics.js";
import { createHealthModel } from "./health/health-model.js";
import { registerHealthRoutes } from "./health/health-router.js";
import { createHealthStore } from "./health/health-store.js";
import { subscribeHeartbeats } from "./health/heartbeat-subscriber.js";
import { consumePipelineOutcomes } from "./pipelines/pipeline-consumer.js";
import { createPipelineStatusStore } from "./pipelines/pipeline-store.js";
import { registerRuleRoutes } from "./rules/rule-router.js";
import { createRuleService } from "./rules/rule-service.js";
import { createRuleStore } from "./rules/rule-store.js";
import { registerTimelineRoutes } from "./timeline/timeline-router.js";
import { createTimelineService } from "./timeline/timeline-service.js";

export const SERVICE_NAME = "monitor";

export interface MonitorConfig {
  /** Requests per minute per token, counted in this process; 0 or absent: no limit. */
  rateLimitPerMinute?: number;
  /** Proxies believed for the client address (TRUST_PROXY). */
  trustProxy?: readonly string[];
  databaseUrl: string;
  schema: string;
  outboxRelay: boolean;
  expectedServices: readonly string[];
  missedHeartbeats: number;
  evaluateIntervalMs: number;
  /** Expected services not heard from are `unknown`, not down, this long after start. */
  absentGraceMs: number;
  bucketMs: number;
  retentionMs: number;
  forgetInstanceMs: number;
  driftDetectorUrl?: string | undefined;
  /** The notifier's API (recent notifications and silences on the dashboard, as the user). */
  notifierUrl?: string | undefined;
  /** The registry's API (revision history, diffs and rollback on the dashboard, as the user). */
  registryUrl?: string | undefined;
  /** The orchestrator's API (runs in progress, approve and reject on the dashboard, as the user). */
  orchestratorUrl?: string | undefined;
  dashboardUrl?: string | undefined;
  leaseRetryMs?: number;
  /** How often dashboards hear the alert list again when it changed on another instance. */
  alertsPollMs?: number;
  /** How often old history, silent instances and old resolved alerts are deleted. Default 10 min. */
  sweepIntervalMs?: number;
  /** How often the registry is asked for expiring API tokens (token_expiring rules). Default 5 min. */
  tokenRefreshMs?: number;
  /** How often the `certificate_expiring` endpoints are read again (default hourly). */
  certificateRefreshMs?: number;
}

export interface MonitorDeps {
  logger: Logger;
  pool: Pool;
  nc: NatsConnection;
  bus: Bus;
  /** Authentication (OIDC, API tokens checked by the registry) for every non-public route. */
  access: AccessControlOptions;
  config: MonitorConfig;
}

/** Compose the service. Nothing subscribes, consumes or evaluates until `workers.start()`. */
export async function buildApp(deps: MonitorDeps) {
  const { logger, pool, bus, nc, config } = deps;

  const relay = createOutboxRelay({
    pool,
    bus,
    logger,
    databaseUrl: config.databaseUrl,
    channel: `${config.schema}_outbox`,
  });
  const model = createHealthModel();
  const healthStore = createHealthStore();
  const alertStore = createAlertStore();
  const findingStore = createFindingStore();
  const headStore = createHeadStore();
  const backupStore = createBackupStatusStore();
  const pipelineStore = createPipelineStatusStore();
  const rules = createRuleService({ pool, store: createRuleStore() });
  const hub = createLiveHub();
  const readAlerts = async () => (await alertStore.list(pool, ["firing", "pending"], 200)).map(alertDto);
  let lastAlerts = "";
  const pushAlerts = async () => {
    if (hub.size() === 0) return;
    const alerts = await readAlerts();
    const text = JSON.stringify(alerts);
    if (text === lastAlerts) return;
    lastAlerts = text;
    hub.sendEach("alerts", (p) => alerts.filter((a) => mayViewAlert(p, a)));
  };

  const evaluator = createAlertEvaluator({
    pool,
    bus,
    logger,
    model,
    healthStore,
    alerts: alertStore,
    findings: findingStore,
    backups: backupStore,
    pipelines: pipelineStore,
    tokens: createTokenExpirySource({ bus, logger, refreshMs: config.tokenRefreshMs ?? 5 * 60_000 }),
    certificates: createCertificateSource({ logger, refreshMs: config.certificateRefreshMs ?? 3_600_000 }),
    rules,
    config: {
      databaseUrl: config.databaseUrl,
      schema: config.schema,
      intervalMs: config.evaluateIntervalMs,
      missedHeartbeats: config.missedHeartbeats,
      expectedServices: config.expectedServices,
      absentGraceMs: config.absentGraceMs,
      bucketMs: config.bucketMs,
      retentionMs: config.retentionMs,
      forgetInstanceMs: config.forgetInstanceMs,
      dashboardUrl: config.dashboardUrl,
      ...(config.leaseRetryMs ? { leaseRetryMs: config.leaseRetryMs } : {}),
      ...(config.sweepIntervalMs ? { sweepIntervalMs: config.sweepIntervalMs } : {}),
    },
    onAlertsChanged: () => void pushAlerts().catch(() => undefined),
  });
  const summary = () => evaluator.summary(Date.now());
  const dashboard = createDashboardService({
    pool,
    heads: headStore,
    drift: createDriftClient({ baseUrl: config.driftDetectorUrl }),
    notifier: createNotifierClient({ baseUrl: config.notifierUrl }),
    health: summary,
    alerts: readAlerts,
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
      "Health of every Nexus service from their heartbeats, alert rules and alerts, and the live dashboard.",
    logger,
    checks,
    rateLimit: { perMinute: config.rateLimitPerMinute ?? 0, redis: null },
    trustProxy: config.trustProxy ?? [],
    access: { ...deps.access, audit },
  });
  registerHealthRoutes(http.app, { summary, pool, store: healthStore });
  registerHealthMetrics(http.metrics, { summary, findings: () => findingStore.open(pool) });
  registerRuleRoutes(http.app, { rules });
  registerAlertRoutes(http.app, { pool, alerts: alertStore });
  registerDashboardRoutes(http.app, { dashboard, hub });
  const registryRelay = createRegistryClient({ baseUrl: config.registryUrl });
  registerRevisionRoutes(http.app, { registry: registryRelay });
  registerCompareRoutes(http.app, { registry: registryRelay });
  const orchestratorRelay = createOrchestratorClient({ baseUrl: config.orchestratorUrl });
  registerPipelineRoutes(http.app, { orchestrator: orchestratorRelay });
  registerRolloutRoutes(http.app, { orchestrator: orchestratorRelay });
  registerTimelineRoutes(http.app, {
    timeline: createTimelineService({
      registry: registryRelay,
      orchestrator: orchestratorRelay,
      drift: createRelayClient(
        {
          code: "drift_detector",
          label: "The drift-detector",
          notConfigured: "The monitor has no DRIFT_DETECTOR_URL.",
        },
        { baseUrl: config.driftDetectorUrl },
      ),
      notifier: createRelayClient(
        { code: "notifier", label: "The notifier", notConfigured: "The monitor has no NOTIFIER_URL." },
        { baseUrl: config.notifierUrl },
      ),
    }),
  });
  registerAuditRoutes(http.app, audit);

  let consumptions: Consumption[] = [];
  let subscriptions: Stoppable[] = [];
  let healthPush: NodeJS.Timeout | undefined;
  let healthDirty = false;
  let alertsPoll: NodeJS.Timeout | undefined;

  return {
    ...http,
    relay,
    evaluator,
    model,
    hub,
    services: { rules, dashboard },
    audit,
    workers: {
      async start() {
        await bus.ensureStreams();
        if (config.outboxRelay) await relay.start();
        await backupStore.startWatching(pool);
        hub.feed({
          open: () => [
            subscribeHeads({ bus, onHead: (head) => hub.send("head", head, (p) => mayView(p, head)) }),
            subscribeApplied({ bus, hub }),
            subscribePipelineHints({ bus, hub }),
          ],
          registered: () => nc.flush(),
        });
        consumptions = [
          await consumeHeads({ bus, pool, heads: headStore }),
          await consumeFindings({ bus, pool, findings: findingStore }),
          await consumeBackupOutcomes({ bus, pool, store: backupStore }),
          await consumePipelineOutcomes({ bus, pool, store: pipelineStore }),
        ];
        subscriptions = [
          subscribeHeartbeats({
            nc,
            bus,
            model,
            logger,
            onChange: () => {
              healthDirty = true;
            },
          }),
        ];
        // Health changes reach dashboards at most every 500 ms, and at least every 5 s (ages move).
        let lastPush = 0;
        healthPush = setInterval(() => {
          if (hub.size() === 0 || (!healthDirty && Date.now() - lastPush < 5_000)) return;
          healthDirty = false;
          lastPush = Date.now();
          hub.send("health", summary());
        }, 500);
        alertsPoll = setInterval(
          () => void pushAlerts().catch(() => undefined),
          config.alertsPollMs ?? 2_000,
        );
        await evaluator.start();
      },
      async stop() {
        clearInterval(healthPush);
        clearInterval(alertsPoll);
        hub.close();
        await Promise.all(subscriptions.map((s) => s.stop()));
        await Promise.all(consumptions.map((c) => c.stop()));
        await evaluator.stop();
        await relay.stop();
        await audit.close();
      },
    },
  };
}
export type MonitorApp = Awaited<ReturnType<typeof buildApp>>;
