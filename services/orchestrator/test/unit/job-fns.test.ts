import { describe, expect, it } from "vitest";
import { checkJob, complianceFindings, scanSummary } from "../../src/jobs/job-fns.js";

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
