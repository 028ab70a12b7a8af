/**
 * The orchestrator's `pipeline.*` events as notices: a run waiting for approval (people must act),
 * a run that succeeded, a run that failed (and whether it rolled back). One notice per run and
 * event; nothing to resolve later. No I/O.
 */
import {
  type EventData,
  PIPELINE_AWAITING_APPROVAL,
  PIPELINE_FAILED,
  PIPELINE_SUCCEEDED,
  type PipelineRun,
} from "@nexus/contracts";
import type { AlertInput } from "../alerts/alert-types.js";
import type { MappingContext } from "./event-alert-fns.js";

function notice(
  d: PipelineRun,
  ctx: MappingContext,
  event: string,
  severity: AlertInput["severity"],
  summary: string,
  details: string,
): AlertInput {
  return {
    fingerprint: `pipeline:${d.runId}:${event}`,
    status: "notice",
    eventType: "pipeline",
    severity,
    summary: summary.slice(0, 500),
    details,
    labels: {
      namespace: d.namespace,
      environment: d.environment,
      pipeline: d.pipeline,
      severity,
      source: "orchestrator",
    },
    links: [],
    source: "orchestrator",
    startsAt: ctx.time,
  };
}

const route = (d: PipelineRun) => `${d.namespace} ${d.sourceEnvironment} → ${d.environment}`;

export const PIPELINE_MAPPINGS = {
  [PIPELINE_AWAITING_APPROVAL]: (d, ctx) =>
    notice(
      d,
      ctx,
      "awaiting-approval",
      "info",
      `Pipeline ${d.pipeline} waits for approval (${route(d)})`,
      `Run ${d.runId}, step ${d.step.name}: ${d.approvalsGiven} of ${d.approvalsRequired} approval(s); started by ${d.author}, who may not approve it.\nApprove with: nexus approve ${d.runId}`,
    ),
  [PIPELINE_SUCCEEDED]: (d, ctx) =>
    notice(
      d,
      ctx,
      "succeeded",
      "info",
      `Pipeline ${d.pipeline} promoted ${route(d)}`,
      d.promotedRevision === null
        ? `Run ${d.runId} passed; ${d.environment} already had that content.`
        : `Run ${d.runId} passed; ${d.environment} runs revision ${d.promotedRevision}.`,
    ),
  [PIPELINE_FAILED]: (d, ctx) => ({
    ...notice(
      d,
      ctx,
      "failed",
      "warning",
      `Pipeline ${d.pipeline} failed (${route(d)})`,
      `Run ${d.runId}${d.step ? `, step ${d.step.name}` : ""}: ${d.reason}`,
    ),
    ...(d.rolledBack
      ? { actionTaken: `Nexus rolled ${d.environment} back to the revision it had before.` }
      : {}),
  }),
} satisfies Partial<{
  [T in typeof PIPELINE_AWAITING_APPROVAL | typeof PIPELINE_SUCCEEDED | typeof PIPELINE_FAILED]: (
    data: EventData<T>,
    ctx: MappingContext,
  ) => AlertInput;
}>;
