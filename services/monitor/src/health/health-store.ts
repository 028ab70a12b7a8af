import type { Queryable } from "@nexus/kit";
import type { PendingSample } from "./health-model.js";
import type { InstanceHealth, InstanceRecord } from "./health-types.js";

interface InstanceRow {
  service: string;
  instance_id: string;
  last_seen_at: Date;
  heartbeat: InstanceRecord["heartbeat"];
}

export interface HistorySample {
  service: string;
  instanceId: string;
  bucket: Date;
  status: InstanceHealth;
  beats: number;
  outboxBacklog: number | null;
  consumerPending: number;
  consumerRedelivered: number;
  deadLetters: number;
}

const healthOfStatus = (s: PendingSample["worst"]): InstanceHealth =>
  s === "ready" ? "up" : s === "stopping" ? "stopped" : s;

export function createHealthStore() {
  return {
    async loadInstances(q: Queryable): Promise<InstanceRecord[]> {
      const res = await q.query<InstanceRow>("SELECT * FROM service_instances");
      return res.rows.map((r) => ({
        service: r.service,
        instanceId: r.instance_id,
        lastSeenAt: r.last_seen_at.getTime(),
        heartbeat: r.heartbeat,
      }));
    },

    /** One statement for the whole batch; last_seen_at only moves forward. */
    async saveInstances(q: Queryable, records: readonly InstanceRecord[]): Promise<void> {
      if (records.length === 0) return;
      await q.query(
        `INSERT INTO service_instances (service, instance_id, last_seen_at, heartbeat)
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS t(service text, instance_id text, last_seen_at timestamptz, heartbeat jsonb)
         ON CONFLICT (service, instance_id) DO UPDATE
           SET last_seen_at = EXCLUDED.last_seen_at, heartbeat = EXCLUDED.heartbeat
           WHERE service_instances.last_seen_at <= EXCLUDED.last_seen_at`,
        [
          JSON.stringify(
            records.map((r) => ({
              service: r.service,
              instance_id: r.instanceId,
              last_seen_at: new Date(r.lastSeenAt).toISOString(),
              heartbeat: r.heartbeat,
            })),
          ),
        ],
      );
    },

    /**
     * Fold samples into their bucket: beats add up, gauges keep the largest, the status the worst
     * (SQL order of `array_position` over the same order as `HEALTH_ORDER`).
     */
    async addSamples(
      q: Queryable,
      bucket: Date,
      samples: ReadonlyArray<PendingSample | { service: string; instanceId: string; missing: true }>,
    ): Promise<void> {
      if (samples.length === 0) return;
      const rows = samples.map((s) =>
        "missing" in s
          ? {
              service: s.service,
              instance_id: s.instanceId,
              status: "missing",
              beats: 0,
              outbox_backlog: null,
              consumer_pending: 0,
              consumer_redelivered: 0,
              dead_letters: 0,
            }
          : {
              service: s.service,
              instance_id: s.instanceId,
              status: healthOfStatus(s.worst),
              beats: s.beats,
              outbox_backlog: s.gauges.outboxBacklog,
              consumer_pending: s.gauges.consumerPending + s.gauges.consumerAckPending,
              consumer_redelivered: s.gauges.consumerRedelivered,
              dead_letters: s.gauges.deadLetters,
            },
      );
      await q.query(
        `INSERT INTO health_samples AS h (service, instance_id, bucket, status, beats, outbox_backlog,
                                          consumer_pending, consumer_redelivered, dead_letters)
         SELECT t.service, t.instance_id, $2, t.status, t.beats, t.outbox_backlog, t.consumer_pending,
                t.consumer_redelivered, t.dead_letters
           FROM jsonb_to_recordset($1::jsonb) AS t(service text, instance_id text, status text, beats int,
                outbox_backlog int, consumer_pending int, consumer_redelivered int, dead_letters int)
         ON CONFLICT (service, instance_id, bucket) DO UPDATE SET
           status = CASE WHEN array_position($3::text[], EXCLUDED.status) < array_position($3::text[], h.status)
                         THEN EXCLUDED.status ELSE h.status END,
           beats = h.beats + EXCLUDED.beats,
           outbox_backlog = GREATEST(h.outbox_backlog, EXCLUDED.outbox_backlog),
           consumer_pending = GREATEST(h.consumer_pending, EXCLUDED.consumer_pending),
           consumer_redelivered = GREATEST(h.consumer_redelivered, EXCLUDED.consumer_redelivered),
           dead_letters = GREATEST(h.dead_letters, EXCLUDED.dead_letters)`,
        [JSON.stringify(rows), bucket, ["missing", "not_ready", "degraded", "up", "stopped"]],
      );
    },

    async history(q: Queryable, service: string, since: Date, instanceId?: string): Promise<HistorySample[]> {
      const res = await q.query<{
        service: string;
        instance_id: string;
        bucket: Date;
        status: InstanceHealth;
        beats: number;
        outbox_backlog: number | null;
        consumer_pending: number;
        consumer_redelivered: number;
        dead_letters: number;
      }>(
        `SELECT * FROM health_samples
          WHERE service = $1 AND bucket >= $2 AND ($3::text IS NULL OR instance_id = $3)
          ORDER BY bucket, instance_id LIMIT 10000`,
        [service, since, instanceId ?? null],
      );
      return res.rows.map((r) => ({
        service: r.service,
        instanceId: r.instance_id,
        bucket: r.bucket,
        status: r.status,
        beats: r.beats,
        outboxBacklog: r.outbox_backlog,
        consumerPending: r.consumer_pending,
        consumerRedelivered: r.consumer_redelivered,
        deadLetters: r.dead_letters,
      }));
    },

    /** Old history and instances silent for too long; returns what was deleted. */
    async sweep(
      q: Queryable,
      samplesBefore: Date,
      instancesBefore: Date,
    ): Promise<{ samples: number; instances: Array<{ service: string; instanceId: string }> }> {
      const samples = await q.query("DELETE FROM health_samples WHERE bucket < $1", [samplesBefore]);
      const gone = await q.query<{ service: string; instance_id: string }>(
        "DELETE FROM service_instances WHERE last_seen_at < $1 RETURNING service, instance_id",
        [instancesBefore],
      );
      return {
        samples: samples.rowCount ?? 0,
        instances: gone.rows.map((r) => ({ service: r.service, instanceId: r.instance_id })),
      };
    },
  };
}
export type HealthStore = ReturnType<typeof createHealthStore>;
