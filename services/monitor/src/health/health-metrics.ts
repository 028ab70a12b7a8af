import { Gauge, type Registry } from "prom-client";
import type { HealthSummary } from "./health-types.js";

/**
 * The monitor's health model as Prometheus series, read at scrape time, so teams with their own
 * Prometheus can run the same rules (infra/prometheus/nexus-rules.yml) over the same facts.
 */
/** What the findings-age gauge needs of an open drift finding (alerts/ keeps them). */
export interface FindingAge {
  findingId: string;
  kind: string;
  namespace: string;
  environment: string;
  openedAt: Date;
}

export function registerHealthMetrics(
  registry: Registry,
  deps: { summary: () => HealthSummary; findings: () => Promise<readonly FindingAge[]> },
): void {
  new Gauge({
    name: "nexus_monitor_instance_up",
    help: "1 while the instance's heartbeats arrive, 0 when they stopped without a goodbye (missing)",
    labelNames: ["service", "instance"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of deps.summary().services)
        for (const i of s.instances)
          if (i.health !== "stopped" && i.health !== "replaced")
            this.set(
              { service: s.service, instance: i.instanceId },
              i.health === "up" || i.health === "degraded" ? 1 : 0,
            );
    },
  });
  new Gauge({
    name: "nexus_monitor_service_up",
    help: "1 when at least one instance of the service is up, else 0 (expected services never heard included)",
    labelNames: ["service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of deps.summary().services)
        if (s.health !== "unknown") this.set({ service: s.service }, s.health === "down" ? 0 : 1);
    },
  });
  new Gauge({
    name: "nexus_monitor_dependency_up",
    help: "1 when the instance reports the dependency up, 0 when down",
    labelNames: ["service", "instance", "dependency"],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of deps.summary().services)
        for (const i of s.instances)
          if (i.health !== "missing" && i.health !== "stopped" && i.health !== "replaced")
            for (const d of i.dependencies)
              this.set(
                { service: s.service, instance: i.instanceId, dependency: d.name },
                d.status === "up" ? 1 : 0,
              );
    },
  });
  const gauge = (
    name: string,
    help: string,
    read: (g: HealthSummary["services"][number]["instances"][number]["gauges"]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ["service"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of deps.summary().services) {
          const live = s.instances.filter((i) => i.health === "up" || i.health === "degraded");
          const values = live.map((i) => read(i.gauges)).filter((v): v is number => v !== null);
          if (values.length > 0) this.set({ service: s.service }, Math.max(...values));
        }
      },
    });
  gauge(
    "nexus_monitor_outbox_backlog",
    "Unpublished outbox rows of the service (largest any live instance reports)",
    (g) => g.outboxBacklog,
  );
  gauge(
    "nexus_monitor_consumer_lag",
    "Messages not yet delivered or acknowledged by the service's durables",
    (g) => g.consumerPending + g.consumerAckPending,
  );
  gauge(
    "nexus_monitor_dead_letters",
    "Messages the service's durables gave up on (in the DLQ)",
    (g) => g.deadLetters,
  );
  new Gauge({
    name: "nexus_monitor_drift_finding_age_seconds",
    help: "Age of each open drift finding",
    labelNames: ["finding_id", "kind", "namespace", "environment"],
    registers: [registry],
    async collect() {
      const findings = await deps.findings().catch(() => []);
      this.reset();
      const now = Date.now();
      for (const f of findings)
        this.set(
          { finding_id: f.findingId, kind: f.kind, namespace: f.namespace, environment: f.environment },
          Math.max(0, (now - f.openedAt.getTime()) / 1_000),
        );
    },
  });
}
