import { ApiErrorBody } from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { z } from "zod";
import type { HealthStore } from "./health-store.js";
import type { HealthSummary } from "./health-types.js";

const tags = ["health"];
const errors = { 400: ApiErrorBody, 401: ApiErrorBody, 403: ApiErrorBody };

const Dependency = z.object({
  name: z.string(),
  critical: z.boolean(),
  status: z.enum(["up", "down"]),
  latencyMs: z.number(),
  error: z.string().optional(),
});
const InstanceDto = z.object({
  service: z.string(),
  instanceId: z.string(),
  health: z.enum(["up", "degraded", "not_ready", "missing", "stopped", "replaced"]),
  version: z.string(),
  uptimeSeconds: z.number(),
  lastSeenAt: z.string(),
  intervalSeconds: z.number(),
  dependencies: z.array(Dependency),
  gauges: z.object({
    outboxBacklog: z.number().nullable(),
    consumerPending: z.number(),
    consumerAckPending: z.number(),
    consumerRedelivered: z.number(),
    deadLetters: z.number(),
  }),
});
const ServiceDto = z.object({
  service: z.string(),
  health: z.enum(["up", "degraded", "down", "unknown"]),
  reason: z.string(),
  instances: z.array(InstanceDto),
});
export const HealthSummaryDto = z.object({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  checkedAt: z.string(),
  services: z.array(ServiceDto),
});
const PublicHealth = z.object({
  status: z.enum(["healthy", "degraded", "unhealthy"]),
  checkedAt: z.string(),
  services: z.record(z.string(), z.enum(["up", "degraded", "down", "unknown"])),
});

/** `/v1/health` for scripts and load balancers; the full model and its history for people. */
export function registerHealthRoutes(
  app: App,
  deps: { summary: () => HealthSummary; pool: Pool; store: HealthStore },
): void {
  app.get(
    "/v1/health",
    {
      config: { access: { public: true, reason: "health summary for load balancers and scripts" } },
      schema: {
        tags,
        summary: "Health of every Nexus service in one word each; 503 when an expected service is down",
        response: { 200: PublicHealth, 503: PublicHealth },
      },
    },
    async (_request, reply) => {
      const s = deps.summary();
      reply.status(s.status === "unhealthy" ? 503 : 200);
      return {
        status: s.status,
        checkedAt: s.checkedAt,
        services: Object.fromEntries(s.services.map((v) => [v.service, v.health])),
      };
    },
  );

  app.get(
    "/v1/services",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "Every service and instance with health, version, dependencies and gauges",
        response: { 200: HealthSummaryDto, ...errors },
      },
    },
    async () => deps.summary(),
  );

  app.get(
    "/v1/services/:service/history",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "Downsampled health history of a service's instances (one sample per instance per bucket)",
        params: z.object({ service: z.string().regex(/^[a-z0-9-]{1,63}$/) }),
        querystring: z.object({
          hours: z.coerce
            .number()
            .int()
            .min(1)
            .max(24 * 90)
            .default(24),
          instance: z.string().max(100).optional(),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                instanceId: z.string(),
                bucket: z.string(),
                status: z.string(),
                beats: z.number(),
                outboxBacklog: z.number().nullable(),
                consumerPending: z.number(),
                consumerRedelivered: z.number(),
                deadLetters: z.number(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const since = new Date(Date.now() - request.query.hours * 3_600_000);
      const rows = await deps.store.history(deps.pool, request.params.service, since, request.query.instance);
      return { items: rows.map(({ service: _s, bucket, ...r }) => ({ ...r, bucket: bucket.toISOString() })) };
    },
  );
}
