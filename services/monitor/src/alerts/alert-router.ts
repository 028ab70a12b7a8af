import { AlertSeverity, ApiErrorBody } from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { z } from "zod";
import type { AlertStore } from "./alert-store.js";
import type { AlertState } from "./alert-types.js";

export const AlertDto = z.object({
  fingerprint: z.string(),
  rule: z.string(),
  status: z.enum(["pending", "firing", "resolved"]),
  severity: AlertSeverity,
  summary: z.string(),
  labels: z.record(z.string(), z.string()),
  activeSince: z.string(),
  firedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});
export type AlertDto = z.infer<typeof AlertDto>;

export const alertDto = (a: AlertState): AlertDto => ({
  ...a,
  activeSince: a.activeSince.toISOString(),
  firedAt: a.firedAt?.toISOString() ?? null,
  resolvedAt: a.resolvedAt?.toISOString() ?? null,
});

export function registerAlertRoutes(app: App, deps: { pool: Pool; alerts: AlertStore }): void {
  app.get(
    "/v1/alerts",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["alerts"],
        summary: "Alerts the monitor's rules raised: pending and firing by default",
        querystring: z.object({
          status: z
            .string()
            .default("pending,firing")
            .transform((s) => s.split(",").map((x) => x.trim()))
            .pipe(z.array(z.enum(["pending", "firing", "resolved"])).min(1)),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(AlertDto) }), 400: ApiErrorBody, 401: ApiErrorBody },
      },
    },
    async (request) => ({
      items: (await deps.alerts.list(deps.pool, request.query.status, request.query.limit)).map(alertDto),
    }),
  );
}
