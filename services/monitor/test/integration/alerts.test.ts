import { ALERT_RAISED, ALERT_RESOLVED, type AlertRaised, type AlertResolved } from "@nexus/contracts";
import type { Consumption } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, sleep, startBeating, startMonitor } from "./harness.js";

const INTERVAL_S = 0.5;
const EVALUATE_MS = 100;

type Seen = { type: string; data: AlertRaised | AlertResolved; at: number };

/**
 * A service whose heartbeats stop is reported by the monitor's rules with alert.raised on the bus
 * within heartbeat interval × 3 (plus one evaluation), and with alert.resolved when it beats again.
 */
describe("monitor: alerts from heartbeats", () => {
  let h: Harness;
  let watch: Consumption;
  const seen: Seen[] = [];

  const OWN_RULES = /^monitor:(notifier-down|instance-gone|slow-instance):/;
  beforeAll(async () => {
    // Not heard of yet is not down (a long grace): otherwise the rule saved below can fire and
    // resolve before the first heartbeat, on a loaded machine.
    h = await startMonitor({
      expectedServices: ["notifier"],
      evaluateIntervalMs: EVALUATE_MS,
      absentGraceMs: 600_000,
    });
    watch = await h.nats.bus.consume(
      [ALERT_RAISED, ALERT_RESOLVED],
      { durable: "test-alert-watch" },
      // Only this test's rules: a default rule (backup overdue) may fire before they replace it.
      (event) =>
        void (
          OWN_RULES.test(event.data.fingerprint) &&
          seen.push({ type: event.type, data: event.data, at: Date.now() })
        ),
    );
    const saved = await h.call("PUT", "/v1/alert-rules", {
      comment: "fire at once",
      rules: [
        { name: "notifier-down", kind: "service_down", severity: "critical", services: ["notifier"] },
        { name: "instance-gone", kind: "instance_down", severity: "error" },
        { name: "slow-instance", kind: "instance_down", for: "1h" },
      ],
    });
    expect(saved.status).toBe(200);
  });
  afterAll(async () => {
    await watch?.stop();
    await h?.close();
  });

  it("raises service and instance alerts within interval × 3 of the heartbeats stopping, resolves them when they return", async () => {
    const first = await startBeating(h, "notifier", "n-1", INTERVAL_S);
    await eventually(
      () => h.call("GET", "/v1/health", undefined, { authorization: "" }),
      (r) => r.status === 200 && r.body.services.notifier === "up",
    );
    // Let a few passes run while healthy: nothing may be raised.
    await sleep(3 * EVALUATE_MS);
    expect(seen).toEqual([]);

    const stoppedAt = Date.now();
    await first.crash();
    await eventually(
      async () => seen.filter((s) => s.type === ALERT_RAISED),
      (raised) => raised.length >= 2,
      5_000,
    );
    const raised = seen.filter((s) => s.type === ALERT_RAISED);
    expect(raised.map((r) => r.data.fingerprint).sort()).toEqual([
      "monitor:instance-gone:notifier:n-1",
      "monitor:notifier-down:notifier",
    ]);
    for (const r of raised) {
      expect(r.at - stoppedAt).toBeLessThanOrEqual(INTERVAL_S * 3 * 1_000 + EVALUATE_MS + 700);
      expect(r.data.source).toBe("monitor");
    }
    expect(raised.find((r) => r.data.fingerprint.includes("notifier-down"))?.data).toMatchObject({
      severity: "critical",
      labels: { service: "notifier", alertname: "notifier-down", kind: "service_down" },
    });

    const unhealthy = await h.call("GET", "/v1/health", undefined, { authorization: "" });
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body).toMatchObject({ status: "unhealthy", services: { notifier: "down" } });
    const alerts = await h.call("GET", "/v1/alerts");
    expect(alerts.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fingerprint: "monitor:instance-gone:notifier:n-1", status: "firing" }),
        expect.objectContaining({ fingerprint: "monitor:slow-instance:notifier:n-1", status: "pending" }),
      ]),
    );

    // Several more passes while it is down: each alert was announced once.
    await sleep(5 * EVALUATE_MS);
    expect(seen.filter((s) => s.type === ALERT_RAISED)).toHaveLength(2);

    const second = await startBeating(h, "notifier", "n-1", INTERVAL_S);
    await eventually(
      async () => seen.filter((s) => s.type === ALERT_RESOLVED),
      (resolved) => resolved.length >= 2,
      5_000,
    );
    const resolved = seen.filter((s) => s.type === ALERT_RESOLVED).map((s) => s.data as AlertResolved);
    expect(resolved.map((r) => r.fingerprint).sort()).toEqual(raised.map((r) => r.data.fingerprint).sort());
    for (const r of resolved) expect(Date.parse(r.endsAt)).toBeGreaterThan(Date.parse(r.startsAt));
    const healthy = await h.call("GET", "/v1/health", undefined, { authorization: "" });
    expect(healthy).toMatchObject({ status: 200, body: { status: "healthy" } });
    // The pending alert that never fired went away without a word.
    const after = await h.call("GET", "/v1/alerts?status=pending,firing");
    expect(after.body.items).toEqual([]);
    expect(seen.some((s) => s.data.fingerprint.includes("slow-instance"))).toBe(false);

    // A clean shutdown (goodbye heartbeat) is not a missing instance, but the service is down.
    await second.stop();
    await eventually(
      async () => seen.filter((s) => s.type === ALERT_RAISED),
      (r) => r.length >= 3,
      5_000,
    );
    const third = seen.filter((s) => s.type === ALERT_RAISED)[2];
    expect(third?.data.fingerprint).toBe("monitor:notifier-down:notifier");
    expect(third?.data.summary).toContain("every instance stopped");
  });

  it("keeps the history downsampled per instance and bucket", async () => {
    const history = await h.call("GET", "/v1/services/notifier/history?hours=1");
    expect(history.status).toBe(200);
    const statuses = new Set(history.body.items.map((i: { status: string }) => i.status));
    // The bucket keeps the worst status it saw: the instance went missing in it.
    expect(statuses.has("missing")).toBe(true);
    const beats = history.body.items.reduce((n: number, i: { beats: number }) => n + i.beats, 0);
    expect(beats).toBeGreaterThan(2);
    expect(history.body.items.every((i: { instanceId: string }) => i.instanceId === "n-1")).toBe(true);
  });
});
