import { describe, expect, it } from "vitest";
import { alertFromEvent, mappedEventTypes } from "../../src/intake/event-alert-fns.js";

const run = {
  schemaVersion: 1 as const,
  runId: "5b0f0c2e-8a57-4c3f-9d59-4f9c2d3f1a10",
  job: "nightly-compliance",
  kind: "compliance-scan" as const,
  trigger: "schedule" as const,
  scheduledAt: "2026-01-01T02:00:00.000Z",
  startedBy: "schedule",
};
const ctx = { links: {}, time: "2026-01-01T02:00:05.000Z" };

describe("job events as notices", () => {
  it("a failed job is a warning notice saying why, how many findings and how to read them", () => {
    const alert = alertFromEvent(
      "nexus.job.failed",
      {
        ...run,
        summary: "scanned 3 environment(s) of 1 namespace(s): 2 finding(s)",
        findings: 2,
        durationMs: 4_400,
      },
      ctx,
    );
    expect(alert).toMatchObject({
      fingerprint: `job:${run.runId}:failed`,
      status: "notice",
      severity: "warning",
      summary: "Compliance scan nightly-compliance failed",
      labels: {
        event_type: "job",
        job: "nightly-compliance",
        kind: "compliance-scan",
        source: "orchestrator",
      },
    });
    expect(alert?.details).toContain(
      "started on its schedule (2026-01-01T02:00:00.000Z), took 4 s: scanned 3",
    );
    expect(alert?.details).toContain(`2 finding(s); read them with: nexus job show ${run.runId}`);
  });

  it("a succeeded job is an info notice; job.started is not consumed", () => {
    const alert = alertFromEvent(
      "nexus.job.succeeded",
      {
        ...run,
        kind: "backup-drill",
        job: "drill",
        trigger: "manual",
        scheduledAt: null,
        startedBy: "root",
        summary: "matched",
        findings: 0,
        durationMs: 900,
      },
      ctx,
    );
    expect(alert).toMatchObject({ severity: "info", summary: "Backup drill drill succeeded" });
    expect(alert?.details).toBe(`Run ${run.runId}, started by root, took 1 s: matched`);
    expect(mappedEventTypes()).toEqual(expect.arrayContaining(["nexus.job.succeeded", "nexus.job.failed"]));
    expect(mappedEventTypes()).not.toContain("nexus.job.started");
  });
});
