import { AlertSeverity, ApiErrorBody } from "@nexus/contracts";
import { type App, canAccess, ForbiddenError, NotFoundError } from "@nexus/kit";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { DeliveryDto } from "../delivery/delivery-types.js";
import { actorOf } from "../http/actor.js";
import type { AlertService } from "./alert-service.js";
import { AlertDto, AlertHistoryEntry } from "./alert-types.js";

const tags = ["alerts"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody };
const FingerprintParams = z.object({ fingerprint: z.string().min(1).max(200) });

/** An alert's namespace and environment labels are its access scope (absent: every namespace). */
const scopeOf = (a: AlertDto) => ({ namespace: a.labels.namespace, environment: a.labels.environment });
const mayView = (request: FastifyRequest, a: AlertDto) => canAccess(request.principal, "viewer", scopeOf(a));

export function registerAlertRoutes(app: App, deps: { alerts: AlertService }): void {
  const { alerts } = deps;
  /** The alert if the caller may see it; otherwise 404, so its existence does not leak. */
  const visible = async (request: FastifyRequest, fingerprint: string) => {
    const found = await alerts.get(fingerprint);
    if (!mayView(request, found.alert)) {
      throw new NotFoundError("alert_not_found", `no alert with fingerprint ${fingerprint}`, {
        field: "fingerprint",
      });
    }
    return found;
  };

  app.get(
    "/v1/alerts",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary:
          "Alerts the caller may see (by their namespace/environment labels), most recently received first",
        querystring: z.object({
          status: z.enum(["firing", "resolved", "notice"]).optional(),
          severity: AlertSeverity.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.iso
            .datetime({ offset: true })
            .optional()
            .describe("Page: lastReceivedAt of the last item seen"),
        }),
        response: { 200: z.object({ items: z.array(AlertDto) }), ...errors },
      },
    },
    async (request) => ({ items: (await alerts.list(request.query)).filter((a) => mayView(request, a)) }),
  );

  app.get(
    "/v1/alerts/:fingerprint",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "One alert: what fired and when, who was told (deliveries), who acknowledged (history)",
        params: FingerprintParams,
        response: {
          200: z.object({
            alert: AlertDto,
            history: z.array(AlertHistoryEntry),
            deliveries: z.array(DeliveryDto),
          }),
          ...errors,
        },
      },
    },
    async (request) => visible(request, request.params.fingerprint),
  );

  app.post(
    "/v1/alerts/:fingerprint/ack",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary:
          "Acknowledge an alert (recorded with who and when; PagerDuty incidents are acknowledged too)",
        params: FingerprintParams,
        body: z.object({ comment: z.string().max(2000).default("") }).default({ comment: "" }),
        response: {
          200: z.object({ alert: AlertDto, acknowledgeDeliveries: z.array(z.string()) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { alert } = await visible(request, request.params.fingerprint);
      if (!canAccess(request.principal, "editor", scopeOf(alert))) {
        throw new ForbiddenError(
          "forbidden",
          "acknowledging needs the editor role on the alert's namespace and environment",
        );
      }
      return alerts.ack(request.params.fingerprint, actorOf(request), request.body.comment);
    },
  );
}
