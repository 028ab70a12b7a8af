import { createHash, timingSafeEqual } from "node:crypto";
import { ApiErrorBody } from "@nexus/contracts";
import { type App, AppError, ServiceUnavailableError } from "@nexus/kit";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { AlertService } from "../alerts/alert-service.js";
import { AlertmanagerPayload, alertsFromAlertmanager } from "./alertmanager-fns.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time: both sides hashed to the same length first, so neither length nor content leaks. */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const given = m?.[1] ?? "";
  return timingSafeEqual(digest(given), digest(expected)) && given.length > 0;
}

export function registerIntakeRoutes(
  app: App,
  deps: { alerts: AlertService; alertmanagerToken: string | undefined },
): void {
  app.post(
    "/v1/intake/alertmanager",
    {
      config: { access: { public: true, reason: "bearer intake token checked in handler" } },
      schema: {
        tags: ["intake"],
        summary: "Prometheus Alertmanager webhook (payload version 4)",
        description:
          "Configure Alertmanager's webhook_config with `http_config.authorization.credentials` set to ALERTMANAGER_INTAKE_TOKEN. Each alert becomes a Nexus alert with fingerprint `alertmanager:<fingerprint>` and `event_type=alertmanager`.",
        body: AlertmanagerPayload,
        response: {
          202: z.object({ accepted: z.number().int(), changed: z.number().int() }),
          400: ApiErrorBody,
          401: ApiErrorBody,
          503: ApiErrorBody,
        },
      },
      // The token is checked before the body is validated, so a stranger learns nothing about the schema.
      preValidation: async (request: FastifyRequest) => {
        if (!deps.alertmanagerToken) {
          throw new ServiceUnavailableError(
            "intake_disabled",
            "Alertmanager intake is off: ALERTMANAGER_INTAKE_TOKEN is not set",
          );
        }
        if (!bearerMatches(request.headers.authorization, deps.alertmanagerToken)) {
          throw new AppError(401, "unauthorized", "a valid bearer token is required", {
            field: "Authorization",
          });
        }
      },
    },
    async (request, reply) => {
      const inputs = alertsFromAlertmanager(request.body);
      const changed = await deps.alerts.ingest(inputs);
      return reply.status(202).send({ accepted: inputs.length, changed });
    },
  );
}
