import { ApiErrorBody, RolloutDetailDto, RolloutListDto } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { tokenOf } from "../http/request-meta.js";
import type { RelayClient } from "./relay-client.js";

const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  503: ApiErrorBody,
};
const tags = ["dashboard"];
const RolloutParams = z.object({ id: z.uuid() });

/**
 * The dashboard's rollouts view: wave rollouts, their waves and each instance's state, asked of the
 * orchestrator with the user's own token (it shows only what the token may view).
 */
export function registerRolloutRoutes(app: App, deps: { orchestrator: RelayClient }): void {
  app.get(
    "/v1/dashboard/rollouts",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "The 20 newest wave rollouts the caller may see",
        response: { 200: RolloutListDto, ...errors },
      },
    },
    async (request) =>
      (await deps.orchestrator.call("GET", "/v1/rollouts?limit=20", tokenOf(request))).body as RolloutListDto,
  );

  app.get(
    "/v1/dashboard/rollouts/:id",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "A wave rollout with its waves, the current one, and each instance's state",
        params: RolloutParams,
        response: { 200: RolloutDetailDto, ...errors },
      },
    },
    async (request) =>
      (
        await deps.orchestrator.call(
          "GET",
          `/v1/rollouts/${encodeURIComponent(request.params.id)}`,
          tokenOf(request),
        )
      ).body as RolloutDetailDto,
  );
}
