import { ALERT_RAISED, ALERT_RESOLVED, type AlertRaised } from "@nexus/contracts";
import {
  type Bus,
  createLease,
  enqueueEvent,
  inWorkSpan,
  type Logger,
  type Pool,
  withTransaction,
} from "@nexus/kit";
import type { BackupStatusStore } from "../backups/backup-store.js";
import { bucketOf, instanceHealth, isReplaced, replacedInstances, summarize } from "../health/health-fns.js";
import type { HealthModel } from "../health/health-model.js";
import type { HealthStore } from "../health/health-store.js";
import type { HealthSummary } from "../health/health-types.js";
import type { PipelineStatusStore } from "../pipelines/pipeline-store.js";
import { durationMs } from "../rules/rule-fns.js";
import type { RuleService } from "../rules/rule-service.js";
import { evaluateRules, planTransitions } from "./alert-fns.js";
import type { AlertStore, FindingStore } from "./alert-store.js";
import type { Condition } from "./alert-types.js";
import type { CertificateSource } from "./certificate-source.js";
import type { TokenExpirySource } from "./token-expiry-source.js";

export interface EvaluatorConfig {
  databaseUrl: string;
  schema: string;
  intervalMs: number;
  missedHeartbeats: number;
  expectedServices: readonly string[];
  /** Expected services not heard from are `unknown` (not down) for this long after start. */
  absentGraceMs: number;
  bucketMs: number;
  retentionMs: number;
  forgetInstanceMs: number;
  dashboardUrl?: string | undefined;
  leaseRetryMs?: number;
  /** How often the retention sweep runs on the lease holder. Default 10 minutes. */
  sweepIntervalMs?: number;
}

/**
 * The singleton duties, on the holder of the `monitor-evaluator:<schema>` advisory lease: write
 * the health model and its history, evaluate the alert rules, move alerts pending → firing →
 * resolved and announce them through the outbox (in the same commit), and sweep old history.
 */
export function createAlertEvaluator(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  logger: Logger;
  model: HealthModel;
  healthStore: HealthStore;
  alerts: AlertStore;
  findings: FindingStore;
  backups: BackupStatusStore;
  pipelines: PipelineStatusStore;
  tokens: TokenExpirySource;
  certificates: CertificateSource;
  rules: RuleService;
  config: EvaluatorConfig;
  onAlertsChanged: () => void;
}) {
  const { pool, model, config, logger } = deps;
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  let lastSaved = 0;
  let lastSweep = 0;

  // An instance silent longer than forgetInstanceMs is left out everywhere, also on instances
  // that do not hold the lease (only the holder deletes its row and forgets it).
  const summary = (now: number): HealthSummary =>
    summarize(
      model.records().filter((r) => now - r.lastSeenAt < config.forgetInstanceMs),
      now,
      {
        missedHeartbeats: config.missedHeartbeats,
        expectedServices: config.expectedServices,
        judgeAbsentAfter: startedAt + config.absentGraceMs,
      },
    );

  async function writeHealth(now: number) {
    const records = model.records();
    const fresh = records.filter((r) => r.lastSeenAt > lastSaved);
    const bucket = new Date(bucketOf(now, config.bucketMs));
    const replaced = replacedInstances(records, now, config.missedHeartbeats);
    const missing = records
      .filter(
        (r) => instanceHealth(r, now, config.missedHeartbeats) === "missing" && !isReplaced(replaced, r),
      )
      .map((r) => ({ service: r.service, instanceId: r.instanceId, missing: true as const }));
    await deps.healthStore.saveInstances(pool, fresh);
    await deps.healthStore.addSamples(pool, bucket, [...model.takePending(), ...missing]);
    lastSaved = Math.max(lastSaved, ...fresh.map((r) => r.lastSeenAt));
  }

  const alertAttributes = (a: Pick<Condition, "fingerprint" | "rule" | "severity">) => ({
    "nexus.alert.fingerprint": a.fingerprint,
    "nexus.alert.rule": a.rule,
    "nexus.alert.severity": a.severity,
  });

  const body = (
    c: Pick<Condition, "fingerprint" | "severity" | "summary" | "labels"> & { details?: string },
    since: Date,
  ): AlertRaised => ({
    schemaVersion: 1,
    fingerprint: c.fingerprint,
    severity: c.severity,
    summary: c.summary,
    details: c.details ?? "",
    labels: c.labels,
    links: config.dashboardUrl ? [{ title: "Nexus dashboard", url: config.dashboardUrl }] : [],
    source: "monitor",
    startsAt: since.toISOString(),
  });

  /** One evaluation: conditions now → transitions, stored and announced in one commit. */
  async function evaluate(now: Date): Promise<number> {
    const [rules, open, backups, pipelines] = await Promise.all([
      deps.rules.rulesInForce(),
      deps.findings.open(pool),
      deps.backups.all(pool),
      deps.pipelines.all(pool),
    ]);
    // Asked only when a rule wants tokens, for the longest window any rule asks about.
    const tokenWindows = rules.flatMap((r) => (r.kind === "token_expiring" ? [durationMs(r.within)] : []));
    const tokens =
      tokenWindows.length > 0
        ? deps.tokens.current(Math.max(1, Math.ceil(Math.max(...tokenWindows) / 86_400_000)), now.getTime())
        : null;
    const conditions = evaluateRules(rules, {
      health: summary(now.getTime()),
      findings: open,
      backups,
      pipelines,
      tokens,
      traffic: model.traffic(
        now.getTime(),
        Math.max(
          0,
          ...rules.flatMap((r) =>
            r.kind === "slo_error_rate" || r.kind === "slo_latency" ? [durationMs(r.window)] : [],
          ),
        ),
      ),
      certificates: deps.certificates.current(
        rules.flatMap((r) => (r.kind === "certificate_expiring" ? r.endpoints : [])),
        now.getTime(),
      ),
      now: now.getTime(),
    });
    return withTransaction(pool, async (c) => {
      // The lease makes this the only writer; the row locks keep a second one (a split lease) honest.
      const active = await deps.alerts.active(c);
      const plan = planTransitions(active, conditions, now);
      for (const p of plan.pending) await deps.alerts.upsert(c, p, "pending", now);
      // Each transition is a span of its own; its event carries the span's trace, so the
      // notifier's handling and delivery of the alert sit under it.
      for (const f of plan.fire)
        await inWorkSpan("raise alert", { attributes: alertAttributes(f) }, async () => {
          await deps.alerts.upsert(c, f, "firing", now);
          await enqueueEvent(c, deps.bus, ALERT_RAISED, body(f, f.activeSince), {
            channel: `${config.schema}_outbox`,
          });
        });
      for (const r of plan.resolve)
        await inWorkSpan("resolve alert", { attributes: alertAttributes(r) }, async () => {
          await deps.alerts.resolve(c, r.fingerprint, now);
          await enqueueEvent(
            c,
            deps.bus,
            ALERT_RESOLVED,
            { ...body(r, r.activeSince), endsAt: now.toISOString() },
            { channel: `${config.schema}_outbox` },
          );
        });
      await deps.alerts.drop(
        c,
        plan.drop.map((d) => d.fingerprint),
      );
      return plan.pending.length + plan.fire.length + plan.resolve.length + plan.drop.length;
    });
  }

  async function sweep(now: number) {
    const gone = await deps.healthStore.sweep(
      pool,
      new Date(now - config.retentionMs),
      new Date(now - config.forgetInstanceMs),
    );
    for (const i of gone.instances) model.forget(i.service, i.instanceId);
    const resolved = await deps.alerts.sweepResolved(pool, new Date(now - config.retentionMs));
    await deps.findings.sweepClosed(pool, new Date(now - config.retentionMs));
    if (gone.samples + gone.instances.length + resolved > 0)
      logger.info(
        { samples: gone.samples, instances: gone.instances.length, resolvedAlerts: resolved },
        "monitor retention: deleted old health history, forgotten instances and resolved alerts",
      );
  }

  async function pass() {
    const now = Date.now();
    try {
      await writeHealth(now);
      const changed = await evaluate(new Date(now));
      if (changed > 0) deps.onAlertsChanged();
      if (now - lastSweep >= (config.sweepIntervalMs ?? 10 * 60_000)) {
        lastSweep = now;
        await sweep(now);
      }
    } catch (err) {
      logger.warn({ err }, "monitor evaluation failed; the next pass tries again");
    }
  }

  const loop = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      running = lease.held() ? pass() : Promise.resolve();
      await running;
      loop();
    }, config.intervalMs);
  };

  const lease = createLease({
    databaseUrl: config.databaseUrl,
    name: `monitor-evaluator:${config.schema}`,
    channel: `${config.schema}_evaluator`,
    retryMs: config.leaseRetryMs ?? 2_000,
    logger,
    onAcquired: () => undefined,
    onLost: () => undefined,
    onNotify: () => undefined,
  });

  return {
    summary,
    /** One pass now (tests), if this instance holds the lease. */
    async passNow() {
      if (lease.held()) await pass();
    },
    isLeader: () => lease.held(),
    async start() {
      stopped = false;
      model.load(await deps.healthStore.loadInstances(pool));
      await lease.start();
      loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await deps.tokens.settle();
      await deps.certificates.settle();
      await lease.stop();
    },
  };
}
export type AlertEvaluator = ReturnType<typeof createAlertEvaluator>;
