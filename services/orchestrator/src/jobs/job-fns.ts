/** Jobs' definitions and what their runs report. No I/O. */

import {
  JOB_FAILED,
  JOB_SUCCEEDED,
  type JobFailed,
  type JobFinding,
  type JobRun,
  type JobRunDto,
  type JobSucceeded,
} from "@nexus/contracts";
import { BadRequestError } from "@nexus/kit";
import { issuesOf } from "../pipelines/pipeline-fns.js";
import { JobDefinition } from "./job-types.js";

/** Check a job document; the first problem names the field, all are listed. */
export function checkJob(input: unknown, name: string): JobDefinition {
  const body = input !== null && typeof input === "object" && !Array.isArray(input) ? input : {};
  const parsed = JobDefinition.safeParse({ ...(body as object), name });
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    const first = issues[0]!;
    throw new BadRequestError("invalid_job", `${first.field}: ${first.message}`, {
      field: first.field,
      details: { issues },
    });
  }
  return parsed.data;
}

/** The findings of one environment's document: schema errors, then policy violations. */
export function complianceFindings(
  namespace: string,
  environment: string,
  schemaProblems: readonly { path: string; message: string }[],
  violations: readonly { policyName: string; path: string; message: string }[],
): JobFinding[] {
  return [
    ...schemaProblems.map((p) => ({
      namespace,
      environment,
      kind: "schema",
      path: p.path,
      message: `breaks the namespace's JSON Schema: ${p.message}`,
    })),
    ...violations.map((v) => ({
      namespace,
      environment,
      kind: "policy",
      path: v.path,
      message: `policy ${v.policyName}: ${v.message}`,
    })),
  ];
}

/** The scan's outcome in words: how much was checked and what was found. */
export function scanSummary(scanned: { namespaces: number; environments: number }, findings: JobFinding[]) {
  const where = `${scanned.environments} environment(s) of ${scanned.namespaces} namespace(s)`;
  if (findings.length === 0) return { ok: true, summary: `scanned ${where}: compliant` };
  const unreadable = findings.filter((f) => f.kind === "unreadable").length;
  const places = new Set(findings.map((f) => `${f.namespace}/${f.environment}`)).size;
  return {
    ok: false,
    summary: `scanned ${where}: ${findings.length} finding(s) in ${places} environment(s)${unreadable ? ` (${unreadable} could not be read)` : ""}`,
  };
}

/** Findings kept with a run: the first ones, so a huge estate does not make a huge row. */
export const MAX_FINDINGS = 1_000;

/** What every `job.*` event says about its run. */
export function jobRunFacts(run: JobRunDto): JobRun {
  return {
    schemaVersion: 1,
    runId: run.id,
    job: run.job,
    kind: run.kind as JobRun["kind"],
    trigger: run.trigger,
    scheduledAt: run.scheduledAt,
    startedBy: run.startedBy,
  };
}

/** The event that ends a run: `job.succeeded` or `job.failed`, with its summary, count of findings and duration. */
export function jobEndedEvent(
  run: JobRunDto,
): { type: typeof JOB_SUCCEEDED; data: JobSucceeded } | { type: typeof JOB_FAILED; data: JobFailed } {
  const ended = run.finishedAt ? Date.parse(run.finishedAt) : Date.now();
  const data = {
    ...jobRunFacts(run),
    summary: run.summary.trim() ? run.summary.slice(0, 2000) : run.status,
    findings: run.findings.length,
    durationMs: Math.max(0, Math.round(ended - Date.parse(run.startedAt))),
  };
  return run.status === "succeeded" ? { type: JOB_SUCCEEDED, data } : { type: JOB_FAILED, data };
}
