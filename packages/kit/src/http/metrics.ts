import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/**
 * RED metrics (rate, errors, duration) per route, on a registry of the app's own so several apps
 * in one process (tests) don't collide. Labels use the route pattern, never the raw URL.
 */
export function registerMetrics(app: FastifyInstance, registry: Registry): void {
  const duration: Histogram<"method" | "route" | "status"> = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  processHttpHistograms.add(duration);
  app.addHook("onClose", (_app, done) => {
    processHttpHistograms.delete(duration);
    done();
  });

  // The histogram's `_count` series is the request rate (and, by status, the error rate).
  app.addHook("onResponse", (request, reply, done) => {
    done();
    const route = request.routeOptions.url ?? "unmatched";
    if (route === "/metrics") return;
    duration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get(
    "/metrics",
    {
      schema: { hide: true },
      config: { access: { public: true, reason: "scraped by Prometheus; route patterns and counts only" } },
    },
    async (_request, reply) => {
      reply.header("content-type", registry.contentType);
      return registry.metrics();
    },
  );
}

/** Resolution of the default event-loop lag metric (`nodejs_eventloop_lag_*`). */
export const EVENT_LOOP_SAMPLE_MS = 100;

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The event-loop lag histogram samples with a libuv timer; prom-client's default 10 ms wakes an
  // idle process 100 times a second (~8 ms of CPU per second each, measured on the 2-core VM: more
  // than the rest of an idle service). 100 ms still catches the stalls worth alerting on.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

/** Every app's request histogram in this process: what the service heartbeat reports from. */
const processHttpHistograms = new Set<Histogram<"method" | "route" | "status">>();

/** Counts since the process started, summed over routes: requests, 5xx, and cumulative buckets. */
export interface HttpTotals {
  requests: number;
  errors5xx: number;
  /** Upper bound in seconds (`Infinity` for +Inf) → requests at most that slow. */
  buckets: Map<number, number>;
}

/**
 * The HTTP totals of this process, read from the RED histograms above (no second counting path):
 * a heartbeat is per process, and a process serves one app.
 */
export async function readProcessHttpTotals(): Promise<HttpTotals> {
  return sumHttpTotals([...processHttpHistograms]);
}

/** The same totals from one app's registry (several apps in one process: tests). */
export async function readHttpTotals(registry: Registry): Promise<HttpTotals> {
  const h = registry.getSingleMetric("http_request_duration_seconds");
  return sumHttpTotals(h instanceof Histogram ? [h] : []);
}

async function sumHttpTotals(histograms: readonly Histogram<string>[]): Promise<HttpTotals> {
  const totals: HttpTotals = { requests: 0, errors5xx: 0, buckets: new Map() };
  for (const h of histograms) {
    const { values } = await h.get();
    for (const v of values) {
      if (v.metricName === "http_request_duration_seconds_count") {
        totals.requests += v.value;
        if (Number(v.labels.status) >= 500) totals.errors5xx += v.value;
      } else if (v.metricName === "http_request_duration_seconds_bucket") {
        const bound = (v.labels as { le?: string | number }).le;
        const le = bound === "+Inf" ? Number.POSITIVE_INFINITY : Number(bound);
        totals.buckets.set(le, (totals.buckets.get(le) ?? 0) + v.value);
      }
    }
  }
  return totals;
}
