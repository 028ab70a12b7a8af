import type { NatsConnection } from "@nats-io/transport-node";
import type { RolloutProgressed } from "@nexus/contracts";
import {
  type AccessControlOptions,
  type Bus,
  type Consumption,
  createAuditLog,
  createHttpApp,
  createMetricsRegistry,
  createOutboxMetrics,
  createOutboxRelay,
  enqueueEvent,
  eventStreamCheck,
  type HealthCheck,
  type Logger,
  type Pool,
  type PoolClient,
  registerAuditRoutes,
  registerBusMetrics,
  type Stoppable,
} from "@nexus/kit";
import { createDriftClient } from "./clients/drift-client.js";
import { createHttpJsonClient } from "./clients/http-json.js";
import { createMonitorClient } from "./clients/monitor-client.js";
import { createRegistryClient } from "./clients/registry-client.js";
import { registerJobRoutes } from "./jobs/job-router.js";
import { createJobService } from "./jobs/job-service.js";
import { createJobStore } from "./jobs/job-store.js";
import { createBackupDrill, createComplianceScan } from "./jobs/job-work.js";
import { registerPipelineRoutes } from "./pipelines/pipeline-router.js";
import { createPipelineService } from "./pipelines/pipeline-service.js";
import { createPipelineStore } from "./pipelines/pipeline-store.js";
import { createRolloutAnswers } from "./rollouts/rollout-answers.js";
import { serveRolloutTargetCommands } from "./rollouts/rollout-command.js";
import { ROLLOUT_EVENT, rolloutProgressed } from "./rollouts/rollout-events.js";
import { createRolloutGates } from "./rollouts/rollout-gates.js";
import { registerRolloutRoutes } from "./rollouts/rollout-router.js";
import { createRolloutService } from "./rollouts/rollout-service.js";
import { createRolloutStore } from "./rollouts/rollout-store.js";
import { createAppliedAcks } from "./runs/applied-acks.js";
import { createExecutor } from "./runs/executor.js";
import { registerRunRoutes } from "./runs/run-router.js";
import { createRunService } from "./runs/run-service.js";
import { createRunStore } from "./runs/run-store.js";
import { registerScheduleRoutes } from "./schedules/schedule-router.js";
import { createScheduleStore } from "./schedules/schedule-store.js";
import { createScheduler } from "./schedules/scheduler.js";
import { type CommandRunner, createLocalCommandRunner } from "./steps/command-runner.js";
import { createStepHandlers } from "./steps/step-handlers.js";
import { consumeChangeRequests, consumeGitPushes } from "./triggers/request-triggers.js";
import { consumeTriggersWhileWanted } from "./triggers/trigger-consumer.js";
import { createTriggerIndex } from "./triggers/trigger-index.js";

export const SERVICE_NAME = "orchestrator";
/**
 * How often each instance checks whether it needs `config.changed` (a pipeline triggered by it, an
 * active rollout); a pipeline change on the instance checks at once.
 */
const TRIGGER_CHECK_MS = 5_000;

export interface OrchestratorConfig {
  /** Requests per minute per token, counted in this process (no Redis here); 0 or absent: no limit. */
  rateLimitPerMinute?: number;
  /** Proxies believed for the client address (TRUST_PROXY). */
  trustProxy?: readonly string[];
  databaseUrl: string;
  schema: string;
  outboxRelay: boolean;
  registryUrl: string;
  driftDetectorUrl: string;
  /** The monitor's HTTP API (health-gate asks it for alerts); absent: drift findings decide. */
  monitorUrl?: string | undefined;
  /** The backup service's HTTP API (backup-drill jobs); absent: drills fail saying so. */
  backupUrl?: string | undefined;
  /** The API token used with the registry's and the drift-detector's HTTP APIs (absent: those steps wait). */
  apiToken: string | undefined;
  /** The admin token backup drills use at the backup service; absent: `apiToken`. */
  backupToken?: string | undefined;
  hookSigningKey: string;
  /** A claimed run not renewed for this long is free for another instance. */
  runLeaseMs: number;
  runPollMs: number;
  dependencyTimeoutMs: number;
  /** Runs driven at once by this instance. Default 4. */
  runConcurrency?: number;
  /** How often wait-applied and health-gate look again. Default 1 s. */
  watchPollMs?: number;
  /** How often ended rollouts' gates left open at the registry are closed (default 60 s). */
  gateSweepMs?: number;
  /** A step whose dependency is away looks again after this long. Default 2 s. */
  retryMs?: number;
  /** A waiting step that looks again within this long keeps its run in this instance. Default 5 s. */
  holdMs?: number;
  /** PATH given to `run` commands. */
  commandPath?: string;
  /** Programs `run` steps may start (default none: `run` steps are refused). */
  allowedCommands?: readonly string[];
  /** URL prefixes `http-hook` steps may call (default none: `http-hook` steps are refused). */
  allowedHookUrls?: readonly string[];
  /** How often the schedules' lease holder looks for due times. Default 1 s. */
  scheduleTickMs?: number;
  /** How often a standby tries to take the schedules' lease. Default 2 s. */
  leaseRetryMs?: number;
}

export interface OrchestratorDeps {
  logger: Logger;
  pool: Pool;
  nc: NatsConnection;
  bus: Bus;
  access: AccessControlOptions;
  config: OrchestratorConfig;
  /** Where `run` steps execute; default: local child processes. */
  runner?: CommandRunner;
}

/** Compose the service. Nothing listens, consumes or runs steps until `workers.start()`. */
export async function buildApp(deps: OrchestratorDeps) {
  const { logger, pool, bus, nc, config } = deps;
  const outboxChannel = `${config.schema}_outbox`;
  const metrics = createMetricsRegistry(SERVICE_NAME);
  const relay = createOutboxRelay({
    pool,
    bus,
    logger,
    databaseUrl: config.databaseUrl,
    channel: outboxChannel,
    ...createOutboxMetrics(metrics, pool),
  });

  const registry = createRegistryClient({
    http: createHttpJsonClient({
      name: "registry",
      baseUrl: config.registryUrl,
      token: config.apiToken,
      timeoutMs: config.dependencyTimeoutMs,
    }),
    bus,
    timeoutMs: config.dependencyTimeoutMs,
  });
  const drift = createDriftClient(
    createHttpJsonClient({
      name: "drift-detector",
      baseUrl: config.driftDetectorUrl,
      token: config.apiToken,
      timeoutMs: config.dependencyTimeoutMs,
    }),
  );
  const monitor = config.monitorUrl
    ? createMonitorClient(
        createHttpJsonClient({
          name: "monitor",
          baseUrl: config.monitorUrl,
          token: config.apiToken,
          timeoutMs: config.dependencyTimeoutMs,
        }),
      )
    : undefined;
  const pipelineStore = createPipelineStore();
  const runStore = createRunStore();
  const rolloutStore = createRolloutStore();
  const rolloutGates = createRolloutGates({ registry, rollouts: rolloutStore, pool, logger });
  const publishRollout = async (tx: PoolClient, data: RolloutProgressed) => {
    await enqueueEvent(tx, bus, ROLLOUT_EVENT, data, { channel: outboxChannel });
  };
  const appliedAcks = createAppliedAcks({ nc, bus });
  const executor = createExecutor({
    pool,
    bus,
    logger,
    runs: runStore,
    acks: appliedAcks,
    handlers: createStepHandlers({
      registry,
      drift,
      monitor,
      runner: deps.runner ?? createLocalCommandRunner(),
      decisions: (runId, index) => runStore.decisions(pool, runId, index),
      lastPassed: (pipeline, except) => runStore.lastPassedRevision(pool, pipeline, except),
      signingKey: config.hookSigningKey,
      allowedHookUrls: config.allowedHookUrls ?? [],
      commandPath: config.commandPath ?? "/usr/local/bin:/usr/bin:/bin",
      allowedCommands: config.allowedCommands ?? [],
      watchPollMs: config.watchPollMs ?? 1_000,
      pool,
      rollouts: rolloutStore,
      gates: rolloutGates,
      publishRollout,
      acks: appliedAcks.seen,
      onRolloutStarted: () => checkTriggers("a rollout started"),
    }),
    // A failed step (or a cancel) ends a wave rollout: later waves never get its revision, and
    // everyone may apply the next one (what the rollback writes).
    onStepFailed: async (tx, run) => {
      const ended = await rolloutStore.finish(tx, run.id, "aborted");
      if (ended) await publishRollout(tx, rolloutProgressed({ ...ended, status: "aborted" }, "aborted"));
      if (!run.definition.steps.some((s) => s.type === "promote" && s.strategy === "waves")) return undefined;
      // Once the abort is committed (until then the plan still holds): the run's gate, also one
      // opened for a plan that never committed. The revisions it marked stay asked about; the
      // next one (the rollback's) is applied without asking, as the aborted plan allows. One that
      // cannot be closed now is closed by the sweep once the run has ended.
      return () =>
        rolloutGates
          .close(run)
          .catch((err: unknown) =>
            logger.warn(
              { err, runId: run.id },
              `the rollout gate of run ${run.id} stays open for now (instances there keep asking before they apply): ${(err as Error).message}`,
            ),
          );
    },
    config: {
      leaseMs: config.runLeaseMs,
      pollMs: config.runPollMs,
      concurrency: config.runConcurrency ?? 4,
      retryMs: config.retryMs ?? 2_000,
      ...(config.holdMs !== undefined ? { holdMs: config.holdMs } : {}),
      outboxChannel,
    },
  });
  const triggerIndex = createTriggerIndex({ pipelines: pipelineStore });
  const rolloutAnswers = createRolloutAnswers({ pool, rollouts: rolloutStore });
  const pipelines = createPipelineService({
    pool,
    pipelines: pipelineStore,
    allowedCommands: config.allowedCommands ?? [],
    allowedHookUrls: config.allowedHookUrls ?? [],
    // A pipeline that starts or stops being triggered by changes takes effect before the answer.
    onChanged: () => checkTriggers("a pipeline change"),
  });
  const runs = createRunService({
    pool,
    bus,
    runs: runStore,
    pipelines: pipelineStore,
    registry,
    outboxChannel,
    wake: () => executor.wake(),
  });

  const jobs = createJobService({
    pool,
    jobs: createJobStore(),
    logger,
    bus,
    outboxChannel,
    leaseMs: config.runLeaseMs,
    work: {
      "compliance-scan": createComplianceScan({ registry }),
      "backup-drill": createBackupDrill({
        backup: config.backupUrl
          ? createHttpJsonClient({
              name: "backup service",
              baseUrl: config.backupUrl,
              token: config.backupToken ?? config.apiToken,
              timeoutMs: config.dependencyTimeoutMs,
            })
          : undefined,
        pollMs: config.watchPollMs ?? 1_000,
      }),
    },
  });

  const scheduleStore = createScheduleStore();
  const scheduler = createScheduler({
    pool,
    databaseUrl: config.databaseUrl,
    schema: config.schema,
    logger,
    pipelines: pipelineStore,
    schedules: scheduleStore,
    runs,
    registry,
    jobs,
    // A run's claim lapses `runLeaseMs` after its instance stopped: look twice per lease.
    jobSweepMs: Math.max(1_000, Math.floor(config.runLeaseMs / 2)),
    tickMs: config.scheduleTickMs ?? 1_000,
    leaseRetryMs: config.leaseRetryMs ?? 2_000,
    wake: () => executor.wake(),
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
    {
      name: "api-token",
      critical: false,
      check: async () => {
        if (!config.apiToken)
          throw new Error("ORCHESTRATOR_API_TOKEN is not set: promotions wait until it is");
      },
    },
  ];
  const audit = createAuditLog({ pool, logger });
  const http = await createHttpApp({
    service: SERVICE_NAME,
    description:
      "Promotion pipelines: validate, approve, promote an exact revision, wait until applied, health-gate, hooks, commands, rollback; durable runs.",
    logger,
    checks,
    metrics,
    rateLimit: { perMinute: config.rateLimitPerMinute ?? 0, redis: null },
    trustProxy: config.trustProxy ?? [],
    access: { ...deps.access, audit },
  });
  const busMetrics = registerBusMetrics(metrics, bus);
  registerPipelineRoutes(http.app, { pipelines });
  registerRunRoutes(http.app, { runs });
  registerRolloutRoutes(http.app, {
    rollouts: createRolloutService({ pool, rollouts: rolloutStore, drift }),
  });
  registerScheduleRoutes(http.app, { pool, pipelines: pipelineStore, schedules: scheduleStore });
  registerJobRoutes(http.app, { jobs });
  registerAuditRoutes(http.app, audit);

  let consumptions: Consumption[] = [];
  let rolloutCommands: Stoppable | undefined;
  // Checked every few seconds, and at once after a pipeline change on this instance.
  const triggers = consumeTriggersWhileWanted({
    bus,
    pool,
    pipelines: pipelineStore,
    rollouts: rolloutStore,
    runs,
    logger,
    wake: () => executor.wake(),
    index: triggerIndex,
    seen: rolloutAnswers.seen,
    everyMs: TRIGGER_CHECK_MS,
  });
  let triggersStarted = false;
  /** Start or stop the trigger consumer now, not at its next check; never fails the caller. */
  function checkTriggers(after: string): Promise<void> {
    return (triggersStarted ? triggers.check() : Promise.resolve()).catch((err: unknown) =>
      logger.warn(
        { err },
        `could not start or stop the trigger consumer after ${after}; the next check will`,
      ),
    );
  }

  return {
    ...http,
    relay,
    executor,
    scheduler,
    audit,
    services: { pipelines, runs, jobs },
    workers: {
      /** Streams exist, the relay and the trigger consumers run, the executor drives runs, schedules compete for their lease. */
      async start() {
        busMetrics.start();
        await bus.ensureStreams();
        if (config.outboxRelay) await relay.start();
        await triggers.start();
        triggersStarted = true;
        const requestTriggers = {
          bus,
          pool,
          pipelines: pipelineStore,
          runs,
          registry,
          logger,
          wake: () => executor.wake(),
        };
        consumptions = [];
        consumptions.push(
          await consumeChangeRequests(requestTriggers),
          await consumeGitPushes(requestTriggers),
        );
        rolloutCommands = serveRolloutTargetCommands({
          bus,
          pool,
          rollouts: rolloutStore,
          answers: rolloutAnswers,
        });
        executor.start();
        rolloutGates.start(config.gateSweepMs ?? 60_000);
        await scheduler.start();
      },
      /** Finish the steps in progress and give their runs back, then stop consuming and publishing. */
      async stop() {
        busMetrics.stop();
        await scheduler.stop();
        rolloutGates.stop();
        await jobs.stop();
        await executor.stop();
        appliedAcks.stopAll();
        await rolloutCommands?.stop();
        await triggers.stop();
        await Promise.all(consumptions.map((c) => c.stop()));
        await relay.stop();
        await audit.close();
      },
    },
  };
}
export type OrchestratorApp = Awaited<ReturnType<typeof buildApp>>;
