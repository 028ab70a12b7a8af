import type { NatsConnection } from "@nats-io/transport-node";
import {
  DRIFT_ESCALATED,
  DRIFT_REMEDIATION_REQUESTED,
  type DriftKind,
  type GitResyncCommand,
  GitResyncReply,
  gitResyncSubject,
  type InstanceResyncCommand,
  instanceResyncSubject,
} from "@nexus/contracts";
import {
  type Bus,
  enqueueEvents,
  type Logger,
  type Pool,
  prepareOutboxRows,
  uuidv7,
  withTransaction,
} from "@nexus/kit";
import { escalatedPayload } from "../findings/finding-events-fns.js";
import type { FindingStore } from "../findings/finding-store.js";
import type { RemediationStep } from "./remediation-fns.js";
import type { RemediationRecord, RemediationStore } from "./remediation-store.js";

export const REQUESTED_BY = "drift-detector";

/**
 * Carries out remediation steps. A resync is recorded (remediation row, attempt count, event)
 * and committed before the command goes out on core NATS: a crash in between loses one command,
 * which the next attempt repeats, and never sends one that is not on record. A re-import (source
 * drift) is recorded the same way, then asked of the registry (`nexus.git.cmd.resync.<source>`);
 * the registry's git.imported resolves the finding, a failure leaves it for the next attempt.
 */
export function createRemediationService(deps: {
  pool: Pool;
  nc: Pick<NatsConnection, "publish">;
  bus: Pick<Bus, "envelope" | "subjectFor" | "subject" | "requestCommand">;
  findings: Pick<FindingStore, "recordRemediation" | "escalate">;
  remediations: Pick<RemediationStore, "insert">;
  logger: Pick<Logger, "info" | "warn">;
  wakeOutbox: () => void;
  /** How long a Git re-import (a fetch and an import in the registry) may take. */
  reimportTimeoutMs?: number;
}) {
  const { bus } = deps;

  /** The remediation row, the finding's attempt count and its event, committed together. */
  async function recordRequest(f: { id: string; kind: DriftKind }, r: RemediationRecord): Promise<void> {
    await withTransaction(deps.pool, async (db) => {
      await deps.remediations.insert(db, r);
      await deps.findings.recordRemediation(db, f.id, r.requestedAt);
      await enqueueEvents(
        db,
        prepareOutboxRows(bus, DRIFT_REMEDIATION_REQUESTED, [
          {
            schemaVersion: 1,
            remediationId: r.id,
            findingId: r.findingId,
            kind: f.kind,
            namespace: r.namespace,
            environment: r.environment,
            service: r.service,
            instanceId: r.instanceId,
            action: r.action,
            targetRevision: r.targetRevision,
            ...(r.gitSource ? { gitSource: r.gitSource } : {}),
            ...(r.branch ? { branch: r.branch } : {}),
            attempt: r.attempt,
            requestId: r.requestId,
            requestedAt: r.requestedAt.toISOString(),
          },
        ]),
      );
    });
  }

  async function reimport(step: Extract<RemediationStep, { action: "reimport" }>): Promise<void> {
    const f = step.finding;
    const remediationId = uuidv7();
    const now = new Date();
    await recordRequest(f, {
      id: remediationId,
      findingId: f.id,
      namespace: f.namespace,
      environment: f.environment,
      action: "reimport",
      service: null,
      instanceId: null,
      targetRevision: null,
      gitSource: step.source,
      branch: step.branch,
      attempt: step.attempt,
      requestId: remediationId,
      requestedAt: now,
    });
    deps.wakeOutbox();
    const command: GitResyncCommand = {
      schemaVersion: 1,
      source: step.source,
      ...(step.branch ? { branch: step.branch } : {}),
      requestedBy: REQUESTED_BY,
      reason: `source drift: ${f.summary}`.slice(0, 1000),
    };
    const log = { findingId: f.id, source: step.source, branch: step.branch, attempt: step.attempt };
    try {
      const reply = await bus.requestCommand(
        gitResyncSubject(command),
        command,
        GitResyncReply,
        deps.reimportTimeoutMs ?? 60_000,
      );
      if (!reply.ok) {
        deps.logger.warn(
          { ...log, code: reply.error.code },
          `the registry refused to re-import Git source ${step.source}: ${reply.error.message}`,
        );
        return;
      }
      const failed = reply.results.filter((r) => r.status === "failed");
      if (failed.length)
        deps.logger.warn(
          { ...log, problems: failed.flatMap((r) => r.problems.map((p) => p.reason)).slice(0, 5) },
          `re-importing Git source ${step.source} failed (attempt ${step.attempt}); the layer stays as it is`,
        );
      else
        deps.logger.info(
          log,
          `re-imported Git source ${step.source} at the branch head to repair source drift of ${f.namespace}/${f.environment} (attempt ${step.attempt})`,
        );
    } catch (err) {
      deps.logger.warn(
        { ...log, err },
        `could not ask the registry to re-import Git source ${step.source}; the next attempt retries`,
      );
    }
  }

  return {
    async run(steps: readonly RemediationStep[]): Promise<void> {
      for (const step of steps) {
        const f = step.finding;
        if (step.action === "reimport") {
          await reimport(step);
          continue;
        }
        const instanceId = f.instanceIds[0] ?? f.namespace;
        const now = new Date();
        if (step.action === "escalate") {
          const escalated = await withTransaction(deps.pool, async (db) => {
            if (!(await deps.findings.escalate(db, f.id, now))) return false;
            await enqueueEvents(
              db,
              prepareOutboxRows(bus, DRIFT_ESCALATED, [escalatedPayload(f, step.attempts)]),
            );
            return true;
          });
          if (escalated) {
            deps.logger.warn(
              { findingId: f.id, instanceId, attempts: step.attempts },
              `${f.kind === "source" ? `re-importing Git for ${f.namespace}/${f.environment}` : `resyncing ${instanceId}`} did not repair the ${f.kind} finding after ${step.attempts} attempts; escalated instead of retrying`,
            );
          }
          continue;
        }
        const remediationId = uuidv7();
        const command: InstanceResyncCommand = {
          schemaVersion: 1,
          namespace: f.namespace,
          environment: f.environment,
          service: f.service ?? undefined,
          instanceId,
          requestId: remediationId,
          reason: `${f.kind} drift: ${f.summary}`.slice(0, 1000),
          requestedBy: REQUESTED_BY,
        };
        await recordRequest(f, {
          id: remediationId,
          findingId: f.id,
          namespace: f.namespace,
          environment: f.environment,
          action: "resync",
          service: f.service ?? "",
          instanceId,
          targetRevision: step.targetRevision,
          attempt: step.attempt,
          requestId: remediationId,
          requestedAt: now,
        });
        deps.nc.publish(bus.subject(instanceResyncSubject(command)), JSON.stringify(command));
        deps.logger.info(
          { findingId: f.id, instanceId, attempt: step.attempt, targetRevision: step.targetRevision },
          `asked ${instanceId} to resync (${f.kind} drift, attempt ${step.attempt})`,
        );
      }
      if (steps.length) deps.wakeOutbox();
    },
  };
}
export type RemediationService = ReturnType<typeof createRemediationService>;
