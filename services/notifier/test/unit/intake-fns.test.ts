import { describe, expect, it } from "vitest";
import {
  AlertmanagerPayload,
  alertsFromAlertmanager,
  severityOf,
} from "../../src/intake/alertmanager-fns.js";
import { alertFromEvent } from "../../src/intake/event-alert-fns.js";

const amAlert = {
  status: "firing",
  labels: {
    alertname: "HighLatency",
    severity: "page",
    namespace: "payments",
    environment: "production",
    instance: "10.0.0.1:9090",
  },
  annotations: {
    summary: "p99 latency above 2s",
    description: "for 10 minutes",
    runbook_url: "https://runbooks.example.com/latency",
  },
  startsAt: "2026-01-01T00:00:00Z",
  endsAt: "0001-01-01T00:00:00Z",
  generatorURL: "http://prometheus:9090/graph?g0.expr=x",
  fingerprint: "a1b2c3d4e5f60718",
};
const payload = {
  version: "4",
  groupKey: '{}:{alertname="HighLatency"}',
  truncatedAlerts: 0,
  status: "firing",
  receiver: "nexus",
  groupLabels: { alertname: "HighLatency" },
  commonLabels: {},
  commonAnnotations: {},
  externalURL: "http://alertmanager:9093",
  alerts: [amAlert],
};

describe("Alertmanager intake", () => {
  it("maps a v4 payload onto the alert model", () => {
    const [a] = alertsFromAlertmanager(AlertmanagerPayload.parse(payload));
    expect(a).toMatchObject({
      fingerprint: "alertmanager:a1b2c3d4e5f60718",
      status: "firing",
      severity: "critical",
      summary: "p99 latency above 2s",
      details: "for 10 minutes",
      source: "alertmanager",
      endsAt: null,
      labels: expect.objectContaining({
        event_type: "alertmanager",
        namespace: "payments",
        severity: "critical",
      }),
    });
    expect(a!.links.map((l) => l.title)).toEqual(["Source (Prometheus)", "Runbook", "Alertmanager"]);
  });
  it("reads resolved alerts' endsAt and maps severities", () => {
    const [a] = alertsFromAlertmanager(
      AlertmanagerPayload.parse({
        ...payload,
        status: "resolved",
        alerts: [{ ...amAlert, status: "resolved", endsAt: "2026-01-01T01:00:00Z" }],
      }),
    );
    expect(a).toMatchObject({ status: "resolved", endsAt: "2026-01-01T01:00:00.000Z" });
    expect([
      severityOf("critical"),
      severityOf("warning"),
      severityOf(undefined),
      severityOf("INFO"),
    ]).toEqual(["critical", "warning", "warning", "info"]);
  });
  it("refuses other payload versions, naming the field", () => {
    const r = AlertmanagerPayload.safeParse({ ...payload, version: "3" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["version"]);
  });
});

describe("bus events as alerts", () => {
  const ctx = {
    links: { dashboardUrl: "https://nexus.example.com", registryUrl: "https://api.nexus.example.com" },
    time: "2026-01-01T00:00:00.000Z",
  };
  const finding = {
    schemaVersion: 1 as const,
    findingId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    kind: "stale" as const,
    namespace: "payments",
    environment: "production",
    service: "payments-api",
    instanceIds: ["pod-1"],
    expected: { revision: 7, hash: null },
    actual: { revision: 6, hash: null },
    severity: "warning" as const,
    firstSeenAt: "2026-01-01T00:00:00.000Z",
    lastSeenAt: "2026-01-01T00:05:00.000Z",
    summary: "pod-1 still runs revision 6 of payments in production",
  };
  it("pairs drift.detected and drift.resolved on one fingerprint and event type", () => {
    const raised = alertFromEvent("nexus.drift.detected", finding, ctx)!;
    const resolved = alertFromEvent(
      "nexus.drift.resolved",
      { ...finding, resolvedAt: "2026-01-01T00:10:00.000Z", resolution: "pod-1 applied revision 7" },
      ctx,
    )!;
    expect(raised).toMatchObject({
      fingerprint: `drift:${finding.findingId}`,
      status: "firing",
      labels: expect.objectContaining({ event_type: "drift", instance: "pod-1" }),
    });
    expect(resolved).toMatchObject({
      fingerprint: raised.fingerprint,
      status: "resolved",
      actionTaken: "pod-1 applied revision 7",
    });
    expect(resolved.labels).toEqual(raised.labels);
    expect(raised.links[0]?.url).toBe("https://nexus.example.com/namespaces/payments?environment=production");
  });
  it("turns config.changed into a notice for subscribers", () => {
    const n = alertFromEvent(
      "nexus.config.changed",
      {
        schemaVersion: 1,
        namespace: "payments",
        environment: "staging",
        revision: 4,
        previousRevision: 3,
        hash: "a".repeat(64),
        previousHash: "b".repeat(64),
        layer: "staging",
        changedPaths: ["/db/pool"],
        trigger: "write",
        actor: "alice",
        source: "api",
      },
      ctx,
    )!;
    expect(n).toMatchObject({
      status: "notice",
      severity: "info",
      labels: expect.objectContaining({ event_type: "config.changed" }),
    });
    expect(n.details).toContain("alice changed 1 key(s)");
  });
});
