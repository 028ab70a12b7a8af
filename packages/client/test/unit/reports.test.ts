import { readFileSync } from "node:fs";
import { ConfigApplied, InstanceHeartbeat } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { appliedReport, heartbeatReport } from "../../src/reports.js";
import { SDK_VERSION } from "../../src/version.js";

const identity = {
  service: "payments",
  instanceId: "h:1:a",
  namespace: "payments-api",
  environment: "production",
};
const document = {
  namespace: "payments-api",
  environment: "production",
  revision: 7,
  hash: "c".repeat(64),
  content: {},
};

describe("reports", () => {
  it("an applied-ack satisfies the contract and echoes the resync request", () => {
    const ack = appliedReport(identity, {
      status: "applied",
      document,
      source: "live",
      trigger: "resync",
      resyncRequestId: "r-9",
      at: new Date("2026-01-01T00:00:00Z"),
    });
    expect(ConfigApplied.parse(ack)).toEqual({
      schemaVersion: 1,
      ...identity,
      revision: 7,
      hash: document.hash,
      status: "applied",
      source: "live",
      trigger: "resync",
      resyncRequestId: "r-9",
      appliedAt: "2026-01-01T00:00:00.000Z",
    });
  });

  it("a rejected ack always has a reason, cut to the contract's limit", () => {
    const ack = appliedReport(identity, {
      status: "rejected",
      document,
      source: "live",
      trigger: "change",
      reason: "x".repeat(5_000),
    });
    const parsed = ConfigApplied.parse(ack);
    expect(parsed.status === "rejected" && parsed.reason.length).toBe(2_000);
    const noReason = ConfigApplied.parse(
      appliedReport(identity, {
        status: "rejected",
        document,
        source: "live",
        trigger: "change",
        reason: "",
      }),
    );
    expect(noReason.status === "rejected" && noReason.reason).toBe("rejected");
  });

  it("a heartbeat mentions a rejection only while it is not what runs", () => {
    const base = {
      document,
      status: "live" as const,
      startedAt: "2026-01-01T00:00:00.000Z",
      intervalSeconds: 30,
    };
    const newer = { revision: 8, hash: "d".repeat(64), reason: "bad port" };
    const hb = InstanceHeartbeat.parse(heartbeatReport(identity, { ...base, rejected: newer }));
    expect(hb).toMatchObject({ revision: 7, status: "live", lastRejected: newer, sdkVersion: SDK_VERSION });
    const same = heartbeatReport(identity, { ...base, rejected: { ...newer, hash: document.hash } });
    expect(same.lastRejected).toBeUndefined();
  });

  it("reports the SDK version of package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});
