import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type ServiceHeartbeat,
  ServiceHeartbeat as ServiceHeartbeatSchema,
  serviceHeartbeatSubject,
} from "@nexus/contracts";
import type pg from "pg";
import type { Bus, BusLogger } from "../bus/types.js";
import type { Readiness } from "../http/health.js";
import { readProcessHttpTotals } from "../http/metrics.js";
import {
  type HeartbeatGauges,
  type HttpCounts,
  instanceIdOf,
  sumGauges,
  trafficBetween,
} from "./heartbeat-fns.js";

export interface ServiceHeartbeatOptions {
  service: string;
  /** The service's package.json (its `version` is reported). */
  packageJsonUrl: URL;
  /** Default `<hostname>-<pid>`, made subject-safe. */
  instanceId?: string | undefined;
  /** 0 turns the heartbeat off. */
  intervalSeconds: number;
  nc: NatsConnection;
  bus: Pick<Bus, "subject" | "streams" | "prefix">;
  /** The service's pool (its search_path holds the kit's outbox); null: no outbox to count. */
  pool: Pick<pg.Pool, "query"> | null;
  readiness: () => Promise<Readiness>;
  /** Logical durable names (prefixes) of the service's consumers, e.g. `["notifier"]`. */
  durables: readonly string[];
  logger: BusLogger;
  /**
   * Cumulative HTTP counts; default: this process's HTTP apps (the kit's RED histograms). Each
   * heartbeat reports the difference from the previous reading.
   */
  readHttpCounts?: () => Promise<HttpCounts>;
}

export interface ServiceHeartbeatPublisher {
  readonly instanceId: string;
  /** Send one now (also what the timer does). */
  beat(): Promise<void>;
  /** Stop the timer and send a last heartbeat with status `stopping`. */
  stop(): Promise<void>;
}

const readVersion = (url: URL): string => {
  try {
    const pkg = JSON.parse(readFileSync(url, "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" && pkg.version ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
};

/**
 * Publish `nexus.service.heartbeat.<service>.<instance>` on core NATS every interval. Gauges that
 * cannot be read this time (NATS or Postgres away) are reported as the last values read; the
 * dependency list says what is down, which is what the monitor alerts on.
 */
export function startServiceHeartbeat(options: ServiceHeartbeatOptions): ServiceHeartbeatPublisher {
  const { nc, bus, logger } = options;
  const instanceId = options.instanceId ?? instanceIdOf(hostname(), process.pid);
  const version = readVersion(options.packageJsonUrl);
  const started = new Date();
  // Uptime from the monotonic clock: the wall clock can be stepped back (NTP, a restored VM), and
  // a negative uptime made every heartbeat fail its own schema (test/faults/clock-skew.test.ts).
  const startedMonotonic = performance.now();
  const subject = bus.subject(serviceHeartbeatSubject({ service: options.service, instanceId }));
  let last: HeartbeatGauges = {
    outboxBacklog: options.pool ? 0 : null,
    consumerPending: 0,
    consumerAckPending: 0,
    consumerRedelivered: 0,
    deadLetters: 0,
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const readHttpCounts = options.readHttpCounts ?? readProcessHttpTotals;
  let lastHttp: HttpCounts | null = null;

  const readTraffic = async () => {
    try {
      const counts = await readHttpCounts();
      const traffic = trafficBetween(lastHttp, counts);
      lastHttp = counts;
      return traffic;
    } catch (err) {
      logger.debug({ err }, "heartbeat: could not read the HTTP counts");
      return undefined;
    }
  };

  const matches = (name: string) => options.durables.some((d) => name === d || name.startsWith(`${d}-`));

  const readGauges = async (): Promise<HeartbeatGauges> => {
    const next = { ...last };
    if (options.pool) {
      try {
        const r = await options.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL",
        );
        next.outboxBacklog = Number(r.rows[0]?.n ?? 0);
      } catch (err) {
        logger.debug({ err }, "heartbeat: could not count the outbox backlog");
      }
    }
    if (!nc.isClosed() && options.durables.length > 0) {
      try {
        const jsm = await jetstreamManager(nc);
        const consumers = [];
        for await (const c of jsm.consumers.list(bus.streams.events)) if (matches(c.name)) consumers.push(c);
        const dlq = await jsm.streams
          .info(bus.streams.dlq, { subjects_filter: `${bus.prefix}.dlq.>` })
          .catch(() => undefined);
        const deadLetters = Object.entries(dlq?.state.subjects ?? {})
          .filter(([s]) => matches(s.slice(`${bus.prefix}.dlq.`.length)))
          .reduce((n, [, count]) => n + count, 0);
        Object.assign(next, sumGauges(consumers), { deadLetters });
      } catch (err) {
        logger.debug({ err }, "heartbeat: could not read consumer state");
      }
    }
    last = next;
    return next;
  };

  const send = async (stopping: boolean) => {
    const [readiness, gauges, http] = await Promise.all([options.readiness(), readGauges(), readTraffic()]);
    const now = new Date();
    const body: ServiceHeartbeat = {
      schemaVersion: 1,
      service: options.service,
      instanceId,
      version,
      startedAt: started.toISOString(),
      sentAt: now.toISOString(),
      uptimeSeconds: Math.floor((performance.now() - startedMonotonic) / 1_000),
      status: stopping ? "stopping" : readiness.status === "draining" ? "stopping" : readiness.status,
      dependencies: readiness.dependencies.map((d) => ({
        name: d.name,
        critical: d.critical,
        status: d.status,
        latencyMs: d.latencyMs,
        ...(d.error ? { error: d.error.slice(0, 500) } : {}),
      })),
      gauges,
      intervalSeconds: options.intervalSeconds,
      ...(http ? { http } : {}),
    };
    if (nc.isClosed()) return;
    nc.publish(subject, JSON.stringify(ServiceHeartbeatSchema.parse(body)));
  };

  const beat = async () => {
    inFlight = send(false).catch((err) => logger.warn({ err }, "heartbeat: could not send"));
    await inFlight;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      await beat();
      schedule();
    }, options.intervalSeconds * 1_000);
    timer.unref();
  };

  if (options.intervalSeconds > 0) {
    void beat();
    schedule();
  }
  return {
    instanceId,
    beat,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      if (options.intervalSeconds <= 0) return;
      await send(true).catch((err) => logger.warn({ err }, "heartbeat: could not send the last one"));
      await nc.flush().catch(() => undefined);
    },
  };
}
