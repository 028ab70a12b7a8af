/**
 * The notifier's operator metrics (docs/metrics.md): deliveries by receiver type and outcome,
 * the delivery queue as the table holds it (read at scrape time, shared by every instance), and
 * what Slack pacing made messages do.
 */
import { type Pool, sharedRead } from "@nexus/kit";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { DeliveryStore } from "../delivery/delivery-store.js";
import type { SendersConfig } from "../receivers/senders.js";

const RECEIVER_TYPES = ["slack", "pagerduty", "email", "webhook"] as const;

export function registerNotifierMetrics(
  registry: Registry,
  deps: { pool: Pool; deliveries: Pick<DeliveryStore, "queueByType"> },
) {
  const deliveries = new Counter({
    name: "nexus_notifier_deliveries_total",
    help: "Delivery attempts recorded by this process, by receiver type and outcome: delivered, retry (failed, will retry), dead (dead-lettered), postponed (Slack pacing, no attempt used)",
    labelNames: ["receiver_type", "outcome"] as const,
    registers: [registry],
  });
  const queue = sharedRead(() => deps.deliveries.queueByType(deps.pool));
  type QueueRow = NonNullable<Awaited<ReturnType<typeof queue>>>[number];
  /** A gauge per receiver type over the shared queue read (0 for types with nothing queued). */
  const queueGauge = (name: string, help: string, read: (r: QueueRow) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["receiver_type"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const rows = await queue().catch(() => null);
        if (!rows) return;
        for (const receiver_type of RECEIVER_TYPES) this.set({ receiver_type }, 0);
        for (const r of rows) this.set({ receiver_type: r.receiver_type }, read(r));
      },
    });
  queueGauge(
    "nexus_notifier_queued_deliveries",
    "Deliveries waiting or being sent, by receiver type",
    (r) => r.n,
  );
  queueGauge(
    "nexus_notifier_oldest_queued_delivery_age_seconds",
    "Age of the oldest delivery waiting or being sent, by receiver type (0 when none is)",
    (r) => Math.max(0, r.age_seconds),
  );
  const pacingWait = new Histogram({
    name: "nexus_slack_pacing_wait_seconds",
    help: "How long a Slack message waited for its pacing slot before it was sent (0: its slot was free)",
    buckets: [0, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  const pacingPostponed = new Counter({
    name: "nexus_slack_pacing_postponed_total",
    help: "Slack messages put back in the queue by pacing, without using an attempt: slot_far (the slot was further off than a wait may last), held (a 429's Retry-After held the webhook)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  return {
    onRecorded(receiverType: string, outcome: string) {
      deliveries.inc({ receiver_type: receiverType, outcome });
    },
    onSlackPacing: ((event) => {
      if (event.kind === "waited") pacingWait.observe(event.waitMs / 1000);
      else pacingPostponed.inc({ reason: event.reason });
    }) satisfies NonNullable<SendersConfig["onSlackPacing"]>,
  };
}
