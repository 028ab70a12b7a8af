/**
 * The detector's operator metrics (docs/metrics.md): findings and instances as the tables hold
 * them, read at scrape time (every instance of the detector reports the same shared state), and
 * the reconciler's passes.
 */
import { type Pool, sharedRead } from "@nexus/kit";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { FindingStore } from "../findings/finding-store.js";
import type { InventoryReadStore } from "../inventory/inventory-read-store.js";

const INSTANCE_STATES = ["live", "cache", "stopping", "unreported", "gone"] as const;

export function registerDriftMetrics(
  registry: Registry,
  deps: {
    pool: Pool;
    findings: Pick<FindingStore, "countActive">;
    inventory: Pick<InventoryReadStore, "countByState">;
  },
) {
  const active = sharedRead(() => deps.findings.countActive(deps.pool));
  new Gauge({
    name: "nexus_drift_open_findings",
    help: "Active drift findings by kind, severity and status (open; resolving: quiet period before resolved)",
    labelNames: ["kind", "severity", "status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await active().catch(() => [])) {
        this.set({ kind: r.kind, severity: r.severity, status: r.status }, r.n);
      }
    },
  });
  const states = sharedRead(() => deps.inventory.countByState(deps.pool));
  new Gauge({
    name: "nexus_drift_instances",
    help: "Known instances by state: live, cache (last-known-good copy), stopping, unreported (no heartbeat yet), gone (silent)",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await states().catch(() => null);
      if (!rows) return;
      const byState = new Map(rows.map((r) => [r.state, r.n]));
      for (const state of INSTANCE_STATES) this.set({ state }, byState.get(state) ?? 0);
    },
  });
  const passes = new Histogram({
    name: "nexus_drift_reconcile_duration_seconds",
    help: "Duration of a reconciler pass (lease holder only)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const announced = new Counter({
    name: "nexus_drift_findings_announced_total",
    help: "Findings the reconciler opened or resolved (drift.detected / drift.resolved), by transition",
    labelNames: ["transition"] as const,
    registers: [registry],
  });
  return {
    /** For `createReconciler({ onPass })`. */
    onPass(result: { opened: number; resolved: number; ms: number }) {
      passes.observe(result.ms / 1000);
      if (result.opened) announced.inc({ transition: "opened" }, result.opened);
      if (result.resolved) announced.inc({ transition: "resolved" }, result.resolved);
    },
  };
}
