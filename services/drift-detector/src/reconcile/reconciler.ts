import { isTracingEnabled, type Logger, type Pool, withTransaction } from "@nexus/kit";
import { desiredForInstance, isEmptyPlan, planTransitions, resolutionFor } from "../findings/finding-fns.js";
import type { FindingService } from "../findings/finding-service.js";
import type { FindingStore } from "../findings/finding-store.js";
import type { ActiveFinding, DesiredFinding } from "../findings/finding-types.js";
import type { HeadStore } from "../heads/head-store.js";
import type { RegistryClient } from "../heads/registry-client.js";
import type { InventoryStore } from "../inventory/inventory-store.js";
import { planRemediation } from "../remediation/remediation-fns.js";
import type { RemediationService } from "../remediation/remediation-service.js";
import { DEFAULT_MODE, type RemediationStore } from "../remediation/remediation-store.js";
import { openEvaluations } from "./evaluation-spans.js";
import type { ReconcileStore } from "./reconcile-store.js";

const INSTANCE_KINDS = ["stale", "rejected", "divergent"] as const;
/** Re-ask the registry about something it could not tell us at most this often. */
const LOOKUP_RETRY_MS = 30_000;
const HOUSEKEEPING_EVERY_MS = 5_000;

export interface ReconcilerConfig {
  graceMs: { byEnvironment: Record<string, number>; defaultMs: number };
  quietMs: number;
  goneAfterMs: number;
  deleteAfterMs: number;
  remediation: { maxAttempts: number; retryMs: number };
}

/**
 * One pass of the lease holder: learn what is unknown from the registry, retire silent
 * instances, then bring the instance findings in line with the inventory (one transaction with
 * its announcements) and run remediation. Passes are idempotent: two in a row change nothing.
 */
export function createReconciler(deps: {
  pool: Pool;
  logger: Pick<Logger, "info" | "warn" | "debug">;
  reconcile: ReconcileStore;
  findings: FindingStore;
  findingService: FindingService;
  heads: HeadStore;
  inventory: InventoryStore;
  registry: RegistryClient;
  remediations: RemediationStore;
  remediation: RemediationService;
  config: ReconcilerConfig;
  wakeOutbox: () => void;
  /** Time up to which reports are stored (see ingest-watermark); the wall clock when absent. */
  watermark?: (now: number) => Promise<number>;
  /** After each pass, with what it announced (metrics, benchmark). */
  onPass?: (result: { opened: number; resolved: number; candidates: number; ms: number }) => void;
}) {
  const { pool, config } = deps;
  const asked = new Map<string, number>();
  let lastHousekeeping = 0;
  /** Judgement time only moves forward, so a finding never flips back for lack of news. */
  let judgedUpTo = 0;

  const graceFor = (env: string) => config.graceMs.byEnvironment[env] ?? config.graceMs.defaultMs;

  async function learnUnknowns(): Promise<void> {
    const unknowns = await deps.heads.unknowns(pool);
    const now = Date.now();
    for (const u of unknowns) {
      const key = `${u.namespace}/${u.environment}`;
      if (now - (asked.get(`${key}@${u.revision}`) ?? 0) < LOOKUP_RETRY_MS) continue;
      asked.set(`${key}@${u.revision}`, now);
      try {
        const doc = await deps.registry.resolved(u.namespace, u.environment);
        if (!doc) continue;
        const at = new Date();
        // What the registry serves now is published; its grace starts when we learn it.
        await deps.heads.advance(pool, { ...doc, changedAt: at, learntFrom: "registry" });
        await deps.heads.rememberHashes(pool, doc.namespace, doc.environment, [doc], at);
      } catch (err) {
        deps.logger.warn(
          { err, namespace: u.namespace, environment: u.environment },
          "could not ask the registry about a revision",
        );
      }
    }
    if (asked.size > 10_000) asked.clear();
  }

  async function housekeeping(judgedAt: Date): Promise<void> {
    const now = Date.now();
    if (now - lastHousekeeping < HOUSEKEEPING_EVERY_MS) return;
    lastHousekeeping = now;
    const gone = await deps.inventory.markGone(pool, config.goneAfterMs, judgedAt);
    const deleted = await deps.inventory.deleteGone(pool, config.deleteAfterMs);
    if (gone || deleted)
      deps.logger.info({ gone, deleted }, `${gone} instance(s) went silent and are gone; ${deleted} removed`);
  }

  async function pass(): Promise<void> {
    const started = performance.now();
    await learnUnknowns();
    const now = new Date();
    // Judge silence and staleness only as far as the reports are in: never ahead of the backlog.
    const mark = deps.watermark ? await deps.watermark(now.getTime()) : now.getTime();
    judgedUpTo = Math.max(judgedUpTo, mark);
    const judgedAt = new Date(judgedUpTo);
    await housekeeping(judgedAt);
    const modes = await deps.remediations.allModes(pool);
    const modeOf = (ns: string, env: string) => modes.get(`${ns}/${env}`) ?? DEFAULT_MODE;
    const candidates = await deps.reconcile.candidates(pool, config.graceMs, judgedAt);
    const desired: DesiredFinding[] = [];
    for (const c of candidates) {
      if (modeOf(c.namespace, c.environment) === "off") continue;
      desired.push(...desiredForInstance(c, graceFor(c.environment), judgedAt.getTime()));
    }
    // Changes whose grace ends now are judged in their own traces (tracing on only: one query).
    const traced = isTracingEnabled() ? await deps.heads.toEvaluate(pool) : [];
    const evaluations = openEvaluations(
      traced,
      (h) => h.changedAt.getTime() <= judgedAt.getTime() - graceFor(h.environment),
    );
    const planOf = (active: ActiveFinding[]) =>
      planTransitions(active, desired, { now: now.getTime(), quietMs: config.quietMs, touchEveryMs: 10_000 });
    // Nothing to raise: one read says whether anything is open; if not, no transaction at all
    // (an idle pass costs no BEGIN, COMMIT or second read). Only this lease holder's pass writes
    // instance findings, so a finding the read missed is at most a pass away.
    const idle =
      desired.length === 0 &&
      traced.length === 0 &&
      isEmptyPlan(planOf(await deps.findings.listActive(pool, INSTANCE_KINDS)));
    const result = idle
      ? { opened: [], resolved: [], events: 0 }
      : await withTransaction(pool, async (db) => {
          const active = await deps.findings.listActive(db, INSTANCE_KINDS);
          const plan = planOf(active);
          const leaving = [...plan.resolving, ...plan.resolve];
          const rows = await deps.reconcile.instancesByKey(
            db,
            leaving.map((f) => ({
              namespace: f.namespace,
              environment: f.environment,
              instanceId: f.instanceIds[0] ?? "",
            })),
          );
          return deps.findingService.apply(
            db,
            plan,
            (f) =>
              modeOf(f.namespace, f.environment) === "off"
                ? "drift detection is off for this namespace and environment"
                : resolutionFor(f, rows.get(`${f.namespace}/${f.environment}/${f.instanceIds[0]}`)),
            now,
            traced.length ? evaluations.traceOf : undefined,
          );
        }).catch((err) => {
          evaluations.fail(err);
          throw err;
        });
    await deps.heads.markEvaluated(pool, evaluations.close({ desired, opened: result.opened }));
    if (result.events) deps.wakeOutbox();
    for (const f of result.opened) deps.logger.info({ findingId: f.id, kind: f.kind }, f.summary);

    // Remediation acts only where a namespace is in remediate mode (the default is report): with
    // none, its two reads (open findings, every head) are skipped.
    if ([...modes.values()].includes("remediate") || DEFAULT_MODE === "remediate") {
      const open = await deps.findings.listActive(pool, ["stale", "divergent", "source"]);
      const heads = await deps.reconcile.heads(pool);
      const steps = planRemediation(open, modeOf, (ns, env) => heads.get(`${ns}/${env}`), {
        ...config.remediation,
        now: Date.now(),
      });
      if (steps.length) await deps.remediation.run(steps);
    }
    deps.logger.debug(
      {
        candidates: candidates.length,
        opened: result.opened.length,
        behindMs: now.getTime() - judgedAt.getTime(),
        ms: Math.round(performance.now() - started),
      },
      "reconcile pass",
    );
    deps.onPass?.({
      opened: result.opened.length,
      resolved: result.resolved.length,
      candidates: candidates.length,
      ms: performance.now() - started,
    });
  }

  return { pass };
}
export type Reconciler = ReturnType<typeof createReconciler>;
