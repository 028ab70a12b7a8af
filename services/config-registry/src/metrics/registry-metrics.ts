/**
 * The registry's operator metrics (docs/metrics.md), counted at the edges: HTTP responses of
 * config writes, the read path's caches and Git imports are wrapped where the composition root
 * wires them, so the services themselves stay free of metrics code.
 */
import { AppError } from "@nexus/kit";
import type { FastifyInstance, onSendHookHandler } from "fastify";
import { Counter, Histogram, type Registry } from "prom-client";
import type { GitImportService } from "../git-sources/git-import-service.js";
import type { ResolveCache } from "../resolve/resolve-cache.js";
import type { ResolveMemoryCache } from "../resolve/resolve-memory-cache.js";
import type { WriteService } from "../writes/write-service.js";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Routes whose writes change configuration: namespaces, layers, schemas, change-request decisions. */
export function isConfigWriteRoute(method: string, route: string): boolean {
  return (
    WRITE_METHODS.has(method) &&
    (route.startsWith("/v1/namespaces") || route.startsWith("/v1/change-requests/"))
  );
}

/** What a write's status means: stored, waiting for approval, refused (4xx), or failed (5xx). */
export function writeOutcome(status: number): "applied" | "change_request" | "refused" | "failed" {
  if (status === 202) return "change_request";
  if (status < 400) return "applied";
  return status < 500 ? "refused" : "failed";
}

/** The error code of an error body (`{"error":{"code":…}}`), or the status when there is none. */
export function refusalReason(payload: unknown, status: number): string {
  if (typeof payload === "string" && payload.startsWith("{")) {
    try {
      const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code;
      if (typeof code === "string" && /^[a-z0-9_]{1,64}$/.test(code)) return code;
    } catch {
      // not JSON: fall through
    }
  }
  return `http_${status}`;
}

/**
 * Config writes by route pattern and outcome, and refusals by the error code the caller got
 * (`revision_conflict`, `schema_violation`, `forbidden`, …): counted from the answer, whatever
 * decided it (validation, access control, the write path).
 */
export function registerConfigWriteMetrics(app: FastifyInstance, registry: Registry) {
  const writes = new Counter({
    name: "nexus_config_writes_total",
    help: "Configuration write requests by route and outcome (applied, change_request, refused, failed)",
    labelNames: ["method", "route", "outcome"] as const,
    registers: [registry],
  });
  const refusals = new Counter({
    name: "nexus_config_write_refusals_total",
    help: "Configuration write requests refused (4xx), by the error code of the answer",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const count: onSendHookHandler = (request, reply, payload, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    const outcome = writeOutcome(reply.statusCode);
    writes.inc({ method: request.method, route, outcome });
    if (outcome === "refused") refusals.inc({ reason: refusalReason(payload, reply.statusCode) });
    done(null, payload);
  };
  // A hook on the write routes only: reads (the hot path) run no extra hook.
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => isConfigWriteRoute(m, route.url))) return;
    const existing = route.onSend ? (Array.isArray(route.onSend) ? route.onSend : [route.onSend]) : [];
    route.onSend = [...existing, count];
  });
  return {
    /**
     * The layer service as `nexus.config.cmd.set` uses it, its writes counted like the PUT's
     * (method `NATS`, route `config.cmd.set`, refusals by the error code of the reply).
     */
    countedCommandWrites<L extends Pick<WriteService, "replace">>(layers: L): L {
      const labels = { method: "NATS", route: "config.cmd.set" };
      return {
        ...layers,
        async replace(...args: Parameters<WriteService["replace"]>) {
          try {
            const result = await layers.replace(...args);
            writes.inc({ ...labels, outcome: "applied" });
            return result;
          } catch (err) {
            const status = err instanceof AppError ? err.statusCode : 500;
            const outcome = writeOutcome(status);
            writes.inc({ ...labels, outcome });
            if (outcome === "refused") refusals.inc({ reason: (err as AppError).code });
            throw err;
          }
        },
      };
    },
  };
}

/**
 * The read path's caches with hit and miss counters (the hit ratio is
 * `rate(hit) / rate(hit + miss)` per cache). Only the reads' view is wrapped: writes fill and
 * evict the caches as before.
 */
export function countedReadCaches<
  M extends Pick<ResolveMemoryCache, "get">,
  C extends Pick<ResolveCache, "get">,
>(registry: Registry, memory: M, cache: C): { memory: M; cache: C } {
  const lookups = new Counter({
    name: "nexus_config_cache_lookups_total",
    help: "Resolved-document lookups on the read path by cache (memory: this process; redis: shared) and result",
    labelNames: ["cache", "result"] as const,
    registers: [registry],
  });
  const memoryHit = lookups.labels("memory", "hit");
  const memoryMiss = lookups.labels("memory", "miss");
  const redisHit = lookups.labels("redis", "hit");
  const redisMiss = lookups.labels("redis", "miss");
  return {
    memory: {
      ...memory,
      get(namespace: string, environment: string) {
        const head = memory.get(namespace, environment);
        (head ? memoryHit : memoryMiss).inc();
        return head;
      },
    },
    cache: {
      ...cache,
      async get(namespace: string, environment: string) {
        const head = await cache.get(namespace, environment);
        (head ? redisHit : redisMiss).inc();
        return head;
      },
    },
  };
}

/** Git imports by result (applied, unchanged, failed, skipped, error) and how long each took. */
export function countedGitImports(registry: Registry, imports: GitImportService): GitImportService {
  const total = new Counter({
    name: "nexus_git_imports_total",
    help: "Git imports by result: applied, unchanged (nothing to write), failed (nothing applied, recorded), skipped (already imported), error (did not finish)",
    labelNames: ["trigger", "result"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "nexus_git_import_duration_seconds",
    help: "Duration of a Git import, fetch included, by result",
    labelNames: ["result"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  return {
    ...imports,
    async run(req) {
      const end = duration.startTimer();
      let result = "error";
      try {
        const outcome = await imports.run(req);
        result = outcome.status;
        return outcome;
      } finally {
        end({ result });
        total.inc({ trigger: req.trigger, result });
      }
    },
  };
}
