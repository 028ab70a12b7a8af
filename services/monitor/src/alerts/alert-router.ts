import { AlertSeverity, ApiErrorBody } from "@nexus/contracts";
import { type App, canAccess, type Pool, type Principal } from "@nexus/kit";
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

/**
 * An alert about a namespace (drift findings: labels `namespace`, `environment`) is shown only to
 * those who may view it; alerts about services are for every signed-in user.
 */
export const mayViewAlert = (p: Principal | null, a: Pick<AlertDto, "labels">) =>
  a.labels.namespace === undefined ||
  canAccess(p, "viewer", { namespace: a.labels.namespace, environment: a.labels.environment });

export function registerAlertRoutes(app: App, deps: { pool: Pool; alerts: AlertStore }): void {
  app.get(
    "/v1/alerts",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["alerts"],
        summary:
          "Alerts the monitor's rules raised: pending and firing by default; alerts about a namespace only for those who may view it",
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
      items: (await deps.alerts.list(deps.pool, request.query.status, request.query.limit))
        .map(alertDto)
        .filter((a) => mayViewAlert(request.principal, a)),
    }),
  );
}
