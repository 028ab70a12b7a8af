import type { NatsConnection } from "@nats-io/transport-node";
import {
  DRIFT_ESCALATED,
  DRIFT_REMEDIATION_REQUESTED,
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
import type { RemediationStore } from "./remediation-store.js";

export const REQUESTED_BY = "drift-detector";

/**
 * Carries out remediation steps. A resync is recorded (remediation row, attempt count, event)
 * and committed before the command goes out on core NATS: a crash in between loses one command,
 * which the next attempt repeats, and never sends one that is not on record.
 */
export function createRemediationService(deps: {
  pool: Pool;
  nc: Pick<NatsConnection, "publish">;
  bus: Pick<Bus, "envelope" | "subjectFor" | "subject">;
  findings: Pick<FindingStore, "recordRemediation" | "escalate">;
  remediations: Pick<RemediationStore, "insert">;
  logger: Pick<Logger, "info" | "warn">;
  wakeOutbox: () => void;
}) {
  const { bus } = deps;
  return {
    async run(steps: readonly RemediationStep[]): Promise<void> {
      for (const step of steps) {
        const f = step.finding;
        const instanceId = f.instanceIds[0]!;
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
              `resyncing ${instanceId} did not repair the ${f.kind} finding after ${step.attempts} attempts; escalated instead of retrying`,
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
        await withTransaction(deps.pool, async (db) => {
          await deps.remediations.insert(db, {
            id: remediationId,
            findingId: f.id,
            namespace: f.namespace,
            environment: f.environment,
            service: f.service ?? "",
            instanceId,
            targetRevision: step.targetRevision,
            attempt: step.attempt,
            requestId: remediationId,
            requestedAt: now,
          });
          await deps.findings.recordRemediation(db, f.id, now);
          await enqueueEvents(
            db,
            prepareOutboxRows(bus, DRIFT_REMEDIATION_REQUESTED, [
              {
                schemaVersion: 1,
                remediationId,
                findingId: f.id,
                kind: f.kind,
                namespace: f.namespace,
                environment: f.environment,
                service: f.service ?? "",
                instanceId,
                action: "resync",
                targetRevision: step.targetRevision,
                attempt: step.attempt,
                requestId: remediationId,
                requestedAt: now.toISOString(),
              },
            ]),
          );
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
