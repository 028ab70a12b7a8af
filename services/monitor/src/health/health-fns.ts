import type { ServiceHeartbeat } from "@nexus/contracts";
import type {
  HealthSummary,
  InstanceHealth,
  InstanceRecord,
  InstanceView,
  OverallHealth,
  ServiceHealth,
  ServiceView,
} from "./health-types.js";

export interface HealthOptions {
  /** Intervals without a heartbeat before an instance is missing. */
  missedHeartbeats: number;
  /** Services that must be there; absent ones are down (or unknown before `judgeAbsentAfter`). */
  expectedServices: readonly string[];
  /** Before this time (ms) an expected service never heard from is `unknown`, not `down`. */
  judgeAbsentAfter: number;
}

/** When an instance that sent this heartbeat at `lastSeenAt` counts as missing. */
export const missingAfter = (r: Pick<InstanceRecord, "lastSeenAt" | "heartbeat">, missed: number) =>
  r.lastSeenAt + r.heartbeat.intervalSeconds * 1_000 * missed;

export function instanceHealth(r: InstanceRecord, now: number, missed: number): InstanceHealth {
  if (r.heartbeat.status === "stopping") return "stopped";
  if (now > missingAfter(r, missed)) return "missing";
  if (r.heartbeat.status === "ready") return "up";
  return r.heartbeat.status;
}

const LIVE: ReadonlySet<InstanceHealth> = new Set(["up", "degraded"]);
export const isLive = (h: InstanceHealth) => LIVE.has(h);

/** Worse first, for history buckets that keep the worst status seen. */
export const HEALTH_ORDER: readonly InstanceHealth[] = [
  "missing",
  "not_ready",
  "degraded",
  "up",
  "replaced",
  "stopped",
];
export const worseHealth = (a: InstanceHealth, b: InstanceHealth): InstanceHealth =>
  HEALTH_ORDER.indexOf(a) <= HEALTH_ORDER.indexOf(b) ? a : b;

export function viewInstance(r: InstanceRecord, now: number, missed: number): InstanceView {
  const hb: ServiceHeartbeat = r.heartbeat;
  return {
    service: r.service,
    instanceId: r.instanceId,
    health: instanceHealth(r, now, missed),
    version: hb.version,
    uptimeSeconds: hb.uptimeSeconds,
    lastSeenAt: new Date(r.lastSeenAt).toISOString(),
    intervalSeconds: hb.intervalSeconds,
    dependencies: hb.dependencies,
    gauges: hb.gauges,
  };
}

export function serviceHealth(
  instances: readonly InstanceView[],
  expectedAbsentUnknown: boolean,
): { health: ServiceHealth; reason: string } {
  const running = instances.filter((i) => i.health !== "stopped" && i.health !== "replaced");
  const live = running.filter((i) => isLive(i.health));
  if (live.length === 0) {
    if (instances.length === 0)
      return expectedAbsentUnknown
        ? { health: "unknown", reason: "no heartbeat yet" }
        : { health: "down", reason: "no heartbeat received" };
    if (running.length === 0) return { health: "down", reason: "every instance stopped" };
    return { health: "down", reason: `none of ${running.length} instance(s) up` };
  }
  const up = live.filter((i) => i.health === "up").length;
  if (up === running.length) return { health: "up", reason: `${up} instance(s) up` };
  return { health: "degraded", reason: `${up} of ${running.length} instance(s) up` };
}

/** The health of every service and instance, and one word for all of it. */
export function summarize(
  records: Iterable<InstanceRecord>,
  now: number,
  opts: HealthOptions,
): HealthSummary {
  const byService = new Map<string, InstanceView[]>();
  for (const name of opts.expectedServices) byService.set(name, []);
  const all = [...records];
  const replaced = replacedInstances(all, now, opts.missedHeartbeats);
  for (const r of all) {
    const list = byService.get(r.service) ?? [];
    const view = viewInstance(r, now, opts.missedHeartbeats);
    list.push(replaced.has(instanceKey(r)) ? { ...view, health: "replaced" } : view);
    byService.set(r.service, list);
  }
  const services: ServiceView[] = [...byService.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, instances]) => {
      instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
      const { health, reason } = serviceHealth(instances, now < opts.judgeAbsentAfter);
      return { service, health, reason, instances };
    });
  return {
    status: overall(services, opts.expectedServices),
    checkedAt: new Date(now).toISOString(),
    services,
  };
}

function overall(services: readonly ServiceView[], expected: readonly string[]): OverallHealth {
  const required = new Set(expected);
  if (services.some((s) => s.health === "down" && required.has(s.service))) return "unhealthy";
  if (services.some((s) => s.health === "degraded" || s.health === "down")) return "degraded";
  return "healthy";
}

const instanceKey = (r: Pick<InstanceRecord, "service" | "instanceId">) =>
  `${r.service}\u0000${r.instanceId}`;

/**
 * Missing instances that a newer one stands in for: a live instance of the same service started
 * after the missing one's last heartbeat. A process killed and restarted by its supervisor gets a
 * new instance id; without this its old id stayed "missing" (service degraded, an instance-down
 * alert) until forgotten a day later. A replica that dies with nothing started after it stays
 * missing.
 */
export function replacedInstances(
  records: readonly InstanceRecord[],
  now: number,
  missed: number,
): Set<string> {
  const newestLiveStart = new Map<string, number>();
  for (const r of records) {
    if (!isLive(instanceHealth(r, now, missed))) continue;
    const started = Date.parse(r.heartbeat.startedAt);
    if (started > (newestLiveStart.get(r.service) ?? Number.NEGATIVE_INFINITY))
      newestLiveStart.set(r.service, started);
  }
  const out = new Set<string>();
  for (const r of records)
    if (
      instanceHealth(r, now, missed) === "missing" &&
      (newestLiveStart.get(r.service) ?? Number.NEGATIVE_INFINITY) > r.lastSeenAt
    )
      out.add(instanceKey(r));
  return out;
}

/** Whether `replacedInstances` named this instance. */
export const isReplaced = (set: ReadonlySet<string>, r: Pick<InstanceRecord, "service" | "instanceId">) =>
  set.has(instanceKey(r));

/** Start of the history bucket holding `at`. */
export const bucketOf = (at: number, bucketMs: number) => Math.floor(at / bucketMs) * bucketMs;
