import type { ServiceHeartbeat } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { instanceHealth, summarize, worseHealth } from "../../src/health/health-fns.js";
import { createHealthModel } from "../../src/health/health-model.js";
import type { InstanceRecord } from "../../src/health/health-types.js";
import { heartbeat, NOW } from "./heartbeat-fixture.js";

const record = (hb: ServiceHeartbeat, lastSeenAt = NOW): InstanceRecord => ({
  service: hb.service,
  instanceId: hb.instanceId,
  lastSeenAt,
  heartbeat: hb,
});
const opts = { missedHeartbeats: 3, expectedServices: ["notifier", "config-registry"], judgeAbsentAfter: 0 };

describe("instance health", () => {
  it("is missing after the given number of intervals without a heartbeat, not before", () => {
    const r = record(heartbeat());
    expect(instanceHealth(r, NOW + 15_000, 3)).toBe("up");
    expect(instanceHealth(r, NOW + 15_001, 3)).toBe("missing");
  });
  it("follows the readiness the instance reports, and a goodbye is `stopped`", () => {
    expect(instanceHealth(record(heartbeat({ status: "not_ready" })), NOW, 3)).toBe("not_ready");
    expect(instanceHealth(record(heartbeat({ status: "degraded" })), NOW, 3)).toBe("degraded");
    expect(instanceHealth(record(heartbeat({ status: "stopping" })), NOW + 3_600_000, 3)).toBe("stopped");
  });
  it("keeps the worse of two statuses for history buckets", () => {
    expect(worseHealth("up", "missing")).toBe("missing");
    expect(worseHealth("degraded", "up")).toBe("degraded");
  });
});

describe("summary", () => {
  it("is unhealthy when an expected service has no live instance, and says why", () => {
    const s = summarize([record(heartbeat(), NOW - 60_000)], NOW, opts);
    expect(s.status).toBe("unhealthy");
    const notifier = s.services.find((v) => v.service === "notifier");
    expect(notifier?.health).toBe("down");
    expect(notifier?.reason).toBe("none of 1 instance(s) up");
    expect(s.services.find((v) => v.service === "config-registry")?.reason).toBe("no heartbeat received");
  });
  it("calls an expected service never heard `unknown` during the start-up grace", () => {
    const s = summarize([record(heartbeat())], NOW, { ...opts, judgeAbsentAfter: NOW + 1 });
    expect(s.services.find((v) => v.service === "config-registry")?.health).toBe("unknown");
    expect(s.status).toBe("healthy");
  });
  it("is degraded when one of two instances is down", () => {
    const s = summarize(
      [
        record(heartbeat()),
        record(heartbeat({ instanceId: "a-2", status: "not_ready" })),
        record(heartbeat({ service: "config-registry", instanceId: "r-1" })),
      ],
      NOW,
      opts,
    );
    expect(s.services.find((v) => v.service === "notifier")).toMatchObject({
      health: "degraded",
      reason: "1 of 2 instance(s) up",
    });
    expect(s.status).toBe("degraded");
  });
});

describe("health model", () => {
  it("refuses a heartbeat whose body names another service or instance than its subject", () => {
    const model = createHealthModel();
    expect(model.ingest(["drift-detector", "a-1"], heartbeat(), NOW)).toMatchObject({
      ok: false,
      field: "service",
    });
    expect(model.ingest(["notifier", "a-2"], heartbeat(), NOW)).toMatchObject({
      ok: false,
      field: "instanceId",
    });
    expect(model.ingest(["notifier", "a-1"], { ...heartbeat(), schemaVersion: 2 }, NOW)).toMatchObject({
      ok: false,
    });
    expect(model.records()).toHaveLength(0);
    expect(model.ingest(["notifier", "a-1"], heartbeat(), NOW)).toMatchObject({ ok: true, changed: true });
    expect(model.records()).toHaveLength(1);
  });
  it("ignores a late heartbeat of the same run and folds samples for the history", () => {
    const model = createHealthModel();
    model.ingest(["notifier", "a-1"], heartbeat({ status: "degraded" }), NOW);
    const late = heartbeat({ sentAt: new Date(NOW - 5_000).toISOString(), status: "ready" });
    expect(model.ingest(["notifier", "a-1"], late, NOW + 10)).toMatchObject({ ok: true, changed: false });
    expect(model.records()[0]?.heartbeat.status).toBe("degraded");
    model.ingest(
      ["notifier", "a-1"],
      heartbeat({
        sentAt: new Date(NOW + 5_000).toISOString(),
        gauges: { ...heartbeat().gauges, deadLetters: 4 },
      }),
      NOW + 5_000,
    );
    const [sample] = model.takePending();
    expect(sample).toMatchObject({ beats: 2, worst: "degraded", gauges: { deadLetters: 4 } });
    expect(model.takePending()).toHaveLength(0);
  });
});

describe("an instance replaced after a crash", () => {
  const crashedAt = NOW - 60_000;
  const crashed = record(heartbeat({ instanceId: "old" }), crashedAt);
  const restarted = (startedAt: number) =>
    record(heartbeat({ instanceId: "new", startedAt: new Date(startedAt).toISOString() }));

  it("is `replaced`, not missing, when a live instance started after its last heartbeat", () => {
    const s = summarize([crashed, restarted(crashedAt + 5_000)], NOW, opts);
    const notifier = s.services.find((v) => v.service === "notifier");
    expect(notifier?.instances.find((i) => i.instanceId === "old")?.health).toBe("replaced");
    expect(notifier).toMatchObject({ health: "up", reason: "1 instance(s) up" });
  });
  it("stays missing when the live instance was already running before it went silent", () => {
    const s = summarize([crashed, restarted(crashedAt - 5_000)], NOW, opts);
    const notifier = s.services.find((v) => v.service === "notifier");
    expect(notifier?.instances.find((i) => i.instanceId === "old")?.health).toBe("missing");
    expect(notifier).toMatchObject({ health: "degraded", reason: "1 of 2 instance(s) up" });
  });
  it("stays missing when the newer instance is itself missing", () => {
    const s = summarize([crashed, record(heartbeat({ instanceId: "new" }), crashedAt + 1_000)], NOW, opts);
    const notifier = s.services.find((v) => v.service === "notifier");
    expect(notifier?.instances.map((i) => i.health)).toEqual(["missing", "missing"]);
    expect(notifier?.health).toBe("down");
  });
});
