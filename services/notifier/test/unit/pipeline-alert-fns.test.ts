import { describe, expect, it } from "vitest";
import { alertFromEvent } from "../../src/intake/event-alert-fns.js";

const run = {
  schemaVersion: 1 as const,
  runId: "5b0f0c2e-8a57-4c3f-9d59-4f9c2d3f1a10",
  pipeline: "shop-to-production",
  pipelineVersion: 3,
  namespace: "shop",
  sourceEnvironment: "staging",
  environment: "production",
};
const ctx = { links: {}, time: "2026-01-01T00:00:00.000Z" };

describe("pipeline events as notices", () => {
  it("asks for an approval, naming who may not give it", () => {
    const alert = alertFromEvent(
      "nexus.pipeline.awaiting-approval",
      {
        ...run,
        step: { index: 1, name: "approve", type: "approve" },
        approvalsRequired: 2,
        approvalsGiven: 1,
        author: "alice",
      },
      ctx,
    );
    expect(alert).toMatchObject({
      fingerprint: `pipeline:${run.runId}:awaiting-approval`,
      status: "notice",
      severity: "info",
      summary: "Pipeline shop-to-production waits for approval (shop staging → production)",
      labels: { event_type: "pipeline", pipeline: "shop-to-production", environment: "production" },
    });
    expect(alert?.details).toContain("1 of 2 approval(s); started by alice");
  });

  it("says a failed run rolled back, and why it failed", () => {
    const alert = alertFromEvent(
      "nexus.pipeline.failed",
      {
        ...run,
        step: { index: 3, name: "wait-applied", type: "wait-applied" },
        reason: "timed out",
        rolledBack: true,
      },
      ctx,
    );
    expect(alert).toMatchObject({ severity: "warning", status: "notice" });
    expect(alert?.details).toContain("step wait-applied: timed out");
    expect(alert?.actionTaken).toContain("rolled production back");
    const kept = alertFromEvent(
      "nexus.pipeline.failed",
      { ...run, step: null, reason: "rejected by bob", rolledBack: false },
      ctx,
    );
    expect(kept?.actionTaken).toBeUndefined();
  });

  it("reports the revision a successful run promoted", () => {
    const alert = alertFromEvent("nexus.pipeline.succeeded", { ...run, promotedRevision: 41 }, ctx);
    expect(alert?.details).toContain("production runs revision 41");
  });
});
