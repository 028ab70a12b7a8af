/**
 * The orchestrator's `job.*` events as notices, like its `pipeline.*` ones: a maintenance job's
 * run that succeeded (info) or failed (warning: a scan's findings, a drill that did not restore
 * cleanly, or a run that could not finish). One notice per run; nothing to resolve later. The
 * findings stay with the run: the notice says how many and how to read them. No I/O.
 */
import { type EventData, JOB_FAILED, JOB_SUCCEEDED, type JobRunOutcome } from "@nexus/contracts";
import type { AlertInput } from "../alerts/alert-types.js";
import type { MappingContext } from "./event-alert-fns.js";

const KIND_WORDS: Record<string, string> = {
  "compliance-scan": "Compliance scan",
  "backup-drill": "Backup drill",
};

function notice(
  d: JobRunOutcome,
  ctx: MappingContext,
  outcome: "succeeded" | "failed",
  severity: AlertInput["severity"],
): AlertInput {
  const what = `${KIND_WORDS[d.kind] ?? d.kind} ${d.job}`;
  const started = d.trigger === "schedule" ? `on its schedule (${d.scheduledAt})` : `by ${d.startedBy}`;
  return {
    fingerprint: `job:${d.runId}:${outcome}`,
    status: "notice",
    eventType: "job",
    severity,
    summary: `${what} ${outcome}`,
    details: [
      `Run ${d.runId}, started ${started}, took ${Math.round(d.durationMs / 1000)} s: ${d.summary}`,
      d.findings > 0 ? `${d.findings} finding(s); read them with: nexus job show ${d.runId}` : "",
    ]
      .filter(Boolean)
      .join("\n")
      .slice(0, 4000),
    labels: { job: d.job, kind: d.kind, severity, source: "orchestrator" },
    links: [],
    source: "orchestrator",
    startsAt: ctx.time,
  };
}

export const JOB_MAPPINGS = {
  [JOB_SUCCEEDED]: (d, ctx) => notice(d, ctx, "succeeded", "info"),
  [JOB_FAILED]: (d, ctx) => notice(d, ctx, "failed", "warning"),
} satisfies {
  [T in typeof JOB_SUCCEEDED | typeof JOB_FAILED]: (data: EventData<T>, ctx: MappingContext) => AlertInput;
};
