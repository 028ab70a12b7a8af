import { AlertSeverity, ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { DeliveryDto } from "../delivery/delivery-types.js";
import { actorOf } from "../http/actor.js";
import type { AlertService } from "./alert-service.js";
import { AlertDto, AlertHistoryEntry } from "./alert-types.js";

const tags = ["alerts"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody };
const FingerprintParams = z.object({ fingerprint: z.string().min(1).max(200) });

export function registerAlertRoutes(app: App, deps: { alerts: AlertService }): void {
  const { alerts } = deps;

  app.get(
    "/v1/alerts",
    {
      config: { access: { role: "viewer" } },
      schema: {
        tags,
        summary: "Alerts, most recently received first",
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
    async (request) => ({ items: await alerts.list(request.query) }),
  );

  app.get(
    "/v1/alerts/:fingerprint",
    {
      config: { access: { role: "viewer" } },
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
    async (request) => alerts.get(request.params.fingerprint),
  );

  app.post(
    "/v1/alerts/:fingerprint/ack",
    {
      config: { access: { role: "editor" } },
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
    async (request) => alerts.ack(request.params.fingerprint, actorOf(request), request.body.comment),
  );
}
