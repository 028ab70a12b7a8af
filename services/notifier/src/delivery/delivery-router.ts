import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import type { DeliveryService } from "./delivery-service.js";
import { DeliveryDto, DeliveryStatus } from "./delivery-types.js";

const tags = ["deliveries"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 409: ApiErrorBody };
const IdParams = z.object({ id: z.uuid() });

export function registerDeliveryRoutes(app: App, deps: { deliveries: DeliveryService }): void {
  const { deliveries } = deps;

  app.get(
    "/v1/deliveries",
    {
      config: { access: { role: "viewer" } },
      schema: {
        tags,
        summary: "Deliveries, newest first; `status=dead` is the dead-letter list",
        querystring: z.object({
          status: DeliveryStatus.optional(),
          receiver: z.string().max(63).optional(),
          fingerprint: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(DeliveryDto) }), ...errors },
      },
    },
    async (request) => ({ items: await deliveries.list(request.query) }),
  );

  app.get(
    "/v1/deliveries/:id",
    {
      config: { access: { role: "viewer" } },
      schema: { tags, summary: "One delivery", params: IdParams, response: { 200: DeliveryDto, ...errors } },
    },
    async (request) => deliveries.get(request.params.id),
  );

  app.post(
    "/v1/deliveries/:id/resend",
    {
      config: { access: { role: "editor" } },
      schema: {
        tags,
        summary: "Send a dead-lettered delivery again (same message and dedup key)",
        params: IdParams,
        response: { 200: DeliveryDto, ...errors },
      },
    },
    async (request) => deliveries.resend(request.params.id),
  );
}
