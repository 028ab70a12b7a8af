import { type ServiceHeartbeat, ServiceHeartbeat as ServiceHeartbeatSchema } from "@nexus/contracts";
import type { InstanceRecord } from "./health-types.js";

export type IngestResult =
  | { ok: true; record: InstanceRecord; changed: boolean }
  | { ok: false; reason: string; field?: string };

/** Heartbeats received since the history was last written, per instance. */
export interface PendingSample {
  service: string;
  instanceId: string;
  beats: number;
  worst: ServiceHeartbeat["status"];
  gauges: ServiceHeartbeat["gauges"];
}

/** One instance's HTTP traffic for one heartbeat interval, as received. */
export interface TrafficSample {
  service: string;
  instanceId: string;
  /** When the monitor received it (ms). */
  at: number;
  requests: number;
  errors5xx: number;
  p99Ms: number | null;
}

/** The longest SLO window a rule may ask for. */
export const TRAFFIC_KEPT_MS = 3_600_000;
/** Kept until an evaluation says how long the rules in force look back (the default rules: 5m). */
const TRAFFIC_KEPT_DEFAULT_MS = 300_000;

const keyOf = (service: string, instanceId: string) => `${service}/${instanceId}`;

/**
 * What this monitor instance knows of every service instance: the last heartbeat of each. Every
 * monitor instance subscribes and keeps its own copy (the dashboard of any instance is live); the
 * lease holder also writes it to Postgres so a restarted monitor knows who should be beating.
 */
export function createHealthModel() {
  const records = new Map<string, InstanceRecord>();
  const pending = new Map<string, PendingSample>();
  const traffic = new Map<string, TrafficSample[]>();
  // Samples are kept only as long as the longest window in force: a 1,000-instance fleet beating
  // every 5 s holds 60,000 of them for 5 minutes, not 720,000 for an hour.
  let trafficKeptMs = TRAFFIC_KEPT_DEFAULT_MS;

  function keepTraffic(key: string, sample: TrafficSample) {
    const list = (traffic.get(key) ?? []).filter((t) => sample.at - t.at < trafficKeptMs);
    list.push(sample);
    traffic.set(key, list);
  }

  /**
   * A heartbeat as received on `<prefix>.service.heartbeat.<service>.<instance>`: the subject is
   * its authority, a body naming another service or instance is refused.
   */
  function ingest(subjectTokens: readonly string[], raw: unknown, now: number): IngestResult {
    const parsed = ServiceHeartbeatSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { ok: false, reason: issue?.message ?? "invalid heartbeat", field: issue?.path.join(".") };
    }
    const hb = parsed.data;
    const [service, instanceId] = subjectTokens;
    if (hb.service !== service)
      return { ok: false, reason: "service differs from the subject", field: "service" };
    if (hb.instanceId !== instanceId)
      return { ok: false, reason: "instanceId differs from the subject", field: "instanceId" };
    const key = keyOf(service, instanceId);
    const before = records.get(key);
    // A late heartbeat (sent before the one we hold) changes nothing.
    if (
      before &&
      Date.parse(before.heartbeat.sentAt) > Date.parse(hb.sentAt) &&
      before.heartbeat.startedAt === hb.startedAt
    )
      return { ok: true, record: before, changed: false };
    const record: InstanceRecord = { service, instanceId, lastSeenAt: now, heartbeat: hb };
    records.set(key, record);
    if (hb.http) keepTraffic(key, { service, instanceId, at: now, ...hb.http });
    const p = pending.get(key);
    pending.set(key, {
      service,
      instanceId,
      beats: (p?.beats ?? 0) + 1,
      worst: p ? worseStatus(p.worst, hb.status) : hb.status,
      gauges: p ? maxGauges(p.gauges, hb.gauges) : hb.gauges,
    });
    const changed =
      !before ||
      before.heartbeat.status !== hb.status ||
      before.heartbeat.version !== hb.version ||
      JSON.stringify(before.heartbeat.dependencies.map((d) => d.status)) !==
        JSON.stringify(hb.dependencies.map((d) => d.status)) ||
      JSON.stringify(before.heartbeat.gauges) !== JSON.stringify(hb.gauges);
    return { ok: true, record, changed };
  }

  return {
    ingest,
    /** Records read from Postgres at start; a heartbeat already received wins. */
    load(rows: readonly InstanceRecord[]) {
      for (const r of rows) {
        const key = keyOf(r.service, r.instanceId);
        if (!records.has(key)) records.set(key, r);
      }
    },
    forget(service: string, instanceId: string) {
      records.delete(keyOf(service, instanceId));
      pending.delete(keyOf(service, instanceId));
      traffic.delete(keyOf(service, instanceId));
    },
    /**
     * The HTTP traffic received within `lookBackMs` (the longest SLO window in force), every
     * instance; from now on samples are kept that long (at most `TRAFFIC_KEPT_MS`).
     */
    traffic(now: number, lookBackMs: number): TrafficSample[] {
      trafficKeptMs = Math.min(Math.max(lookBackMs, 1_000), TRAFFIC_KEPT_MS);
      const out: TrafficSample[] = [];
      for (const [key, list] of traffic) {
        const kept = list.filter((t) => now - t.at < trafficKeptMs);
        if (kept.length === 0) traffic.delete(key);
        else traffic.set(key, kept);
        out.push(...kept);
      }
      return out;
    },
    records: (): InstanceRecord[] => [...records.values()],
    /** What arrived since the last call (for the history), and start counting again. */
    takePending(): PendingSample[] {
      const out = [...pending.values()];
      pending.clear();
      return out;
    },
  };
}
export type HealthModel = ReturnType<typeof createHealthModel>;

const STATUS_ORDER: readonly ServiceHeartbeat["status"][] = ["not_ready", "degraded", "stopping", "ready"];
const worseStatus = (a: ServiceHeartbeat["status"], b: ServiceHeartbeat["status"]) =>
  STATUS_ORDER.indexOf(a) <= STATUS_ORDER.indexOf(b) ? a : b;

function maxGauges(a: ServiceHeartbeat["gauges"], b: ServiceHeartbeat["gauges"]): ServiceHeartbeat["gauges"] {
  return {
    outboxBacklog:
      a.outboxBacklog === null && b.outboxBacklog === null
        ? null
        : Math.max(a.outboxBacklog ?? 0, b.outboxBacklog ?? 0),
    consumerPending: Math.max(a.consumerPending, b.consumerPending),
    consumerAckPending: Math.max(a.consumerAckPending, b.consumerAckPending),
    consumerRedelivered: Math.max(a.consumerRedelivered, b.consumerRedelivered),
    deadLetters: Math.max(a.deadLetters, b.deadLetters),
  };
}
