import { JobFailed, JobSucceeded } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import {
  checkJob,
  complianceFindings,
  jobEndedEvent,
  jobRunFacts,
  scanSummary,
} from "../../src/jobs/job-fns.js";

describe("maintenance job definitions", () => {
  it("takes the name from the path and fills defaults", () => {
    expect(checkJob({ kind: "compliance-scan", name: "ignored" }, "scan")).toEqual({
      name: "scan",
      kind: "compliance-scan",
      policies: true,
    });
    expect(checkJob({ kind: "backup-drill", schedule: { cron: "0 0 3 * * *" } }, "drill")).toMatchObject({
      timeoutSeconds: 1_800,
      schedule: { cron: "0 0 3 * * *", timezone: "UTC", misfireGraceSeconds: 300 },
    });
  });

  it("names the failing field", () => {
    const fieldOf = (body: unknown) => {
      try {
        checkJob(body, "j");
        return null;
      } catch (err) {
        return (err as { field?: string }).field;
      }
    };
    expect(fieldOf({ kind: "nope" })).toBe("kind");
    expect(fieldOf({ kind: "compliance-scan", namespaces: [] })).toBe("namespaces");
    expect(
      fieldOf({ kind: "compliance-scan", schedule: { cron: "0 0 3 * * *", timezone: "Mars/Base" } }),
    ).toBe("schedule.timezone");
    expect(fieldOf("text")).toBe("kind");
  });
});

describe("compliance findings", () => {
  it("lists schema problems then policy violations, and sums them up", () => {
    const findings = complianceFindings(
      "shop",
      "production",
      [{ path: "/replicas", message: "must be >= 4" }],
      [{ policyName: "tls", path: "db.tls", message: "must be true" }],
    );
    expect(findings.map((f) => `${f.kind} ${f.path}`)).toEqual(["schema /replicas", "policy db.tls"]);
    expect(scanSummary({ namespaces: 1, environments: 2 }, findings)).toEqual({
      ok: false,
      summary: "scanned 2 environment(s) of 1 namespace(s): 2 finding(s) in 1 environment(s)",
    });
    expect(scanSummary({ namespaces: 3, environments: 6 }, [])).toEqual({
      ok: true,
      summary: "scanned 6 environment(s) of 3 namespace(s): compliant",
    });
  });
});

describe("job events", () => {
  const run = {
    id: "6f1d9a2c-3b4e-4f5a-8b6c-7d8e9f0a1b2c",
    job: "drill",
    kind: "backup-drill",
    trigger: "schedule" as const,
    scheduledAt: "2026-12-07T03:00:00.000Z",
    startedBy: "schedule",
    status: "succeeded" as const,
    summary: "backup bk-1 restored and matched",
    findings: [],
    startedAt: "2026-12-07T03:00:00.250Z",
    finishedAt: "2026-12-07T03:00:04.750Z",
  };

  it("a run's facts, and its end as job.succeeded or job.failed with the count of findings and the duration", () => {
    expect(jobRunFacts(run)).toEqual({
      schemaVersion: 1,
      runId: run.id,
      job: "drill",
      kind: "backup-drill",
      trigger: "schedule",
      scheduledAt: "2026-12-07T03:00:00.000Z",
      startedBy: "schedule",
    });
    const ok = jobEndedEvent(run);
    expect(ok.type).toBe("nexus.job.succeeded");
    expect(ok.data).toMatchObject({ summary: run.summary, findings: 0, durationMs: 4_500 });
    const finding = { namespace: null, environment: null, kind: "backup", path: null, message: "x" };
    const bad = jobEndedEvent({ ...run, status: "failed", summary: "", findings: [finding, finding] });
    expect(bad.type).toBe("nexus.job.failed");
    expect(bad.data).toMatchObject({ summary: "failed", findings: 2 });
    expect(JobFailed.safeParse(bad.data).success).toBe(true);
    expect(JobSucceeded.safeParse(ok.data).success).toBe(true);
  });
});
