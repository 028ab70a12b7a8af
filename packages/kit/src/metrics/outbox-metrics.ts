import type pg from "pg";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { sharedRead } from "./scrape-fns.js";

export interface OutboxMetrics {
  /** For `createOutboxRelay({ onPublished })`. */
  onPublished(count: number, lagMs: number, duplicates: number): void;
  /** For `createOutboxRelay({ onPublishFailed })`. */
  onPublishFailed(count: number): void;
}

/**
 * The outbox as an operator sees it: rows committed and not yet published and the age of the
 * oldest (read from the table at scrape time, so every instance of the service agrees whichever
 * holds the relay), and this process's publishes, failures and commit-to-PubAck lag.
 */
export function createOutboxMetrics(registry: Registry, pool: Pick<pg.Pool, "query">): OutboxMetrics {
  const backlog = sharedRead(async () => {
    const res = await pool.query<{ n: string; age: number | null }>(
      `SELECT count(*) AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
       FROM outbox WHERE published_at IS NULL`,
    );
    return { rows: Number(res.rows[0]?.n ?? 0), ageSeconds: Math.max(0, res.rows[0]?.age ?? 0) };
  });
  new Gauge({
    name: "nexus_outbox_pending_events",
    help: "Events committed to the outbox and not yet published to JetStream",
    registers: [registry],
    async collect() {
      this.reset();
      const b = await backlog().catch(() => null);
      if (b) this.set(b.rows);
    },
  });
  new Gauge({
    name: "nexus_outbox_oldest_pending_age_seconds",
    help: "Age of the oldest unpublished outbox event (0 when none is waiting)",
    registers: [registry],
    async collect() {
      this.reset();
      const b = await backlog().catch(() => null);
      if (b) this.set(b.ageSeconds);
    },
  });
  const published = new Counter({
    name: "nexus_outbox_published_events_total",
    help: "Outbox events this process published (PubAck received)",
    registers: [registry],
  });
  const failures = new Counter({
    name: "nexus_outbox_publish_failures_total",
    help: "Outbox events whose publish failed in this process (they stay in the outbox and are retried)",
    registers: [registry],
  });
  const lag = new Histogram({
    name: "nexus_outbox_publish_lag_seconds",
    help: "From an outbox event's commit to its PubAck",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    onPublished(count, lagMs) {
      published.inc(count);
      lag.observe(lagMs / 1000);
    },
    onPublishFailed(count) {
      failures.inc(count);
    },
  };
}
