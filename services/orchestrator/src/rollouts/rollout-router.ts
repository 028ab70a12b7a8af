import { ApiErrorBody, RolloutDetailDto, RolloutListDto } from "@nexus/contracts";
import { type App, requireAccess } from "@nexus/kit";
import { z } from "zod";
import { mayView } from "../http/access.js";
import type { RolloutService } from "./rollout-service.js";

const tags = ["rollouts"];
const errors = { 400: ApiErrorBody, 403: ApiErrorBody, 404: ApiErrorBody, 503: ApiErrorBody };
const anyToken = { access: { authenticated: true as const } };

const RolloutQuery = z.object({
  namespace: z.string().max(63).optional(),
  environment: z.string().max(63).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
const RolloutParams = z.object({ id: z.uuid() });

/** Read-only: rollouts are started and moved by their runs' promote steps. Access as for runs. */
export function registerRolloutRoutes(app: App, deps: { rollouts: RolloutService }): void {
  app.get(
    "/v1/rollouts",
    {
      config: anyToken,
      schema: {
        tags,
        summary:
          "Wave rollouts this token may see (viewer of the namespace in the environment), newest first",
        querystring: RolloutQuery,
        response: { 200: RolloutListDto, ...errors },
      },
    },
    async (request) => ({
      items: await deps.rollouts.list(request.query, (scope) => mayView(request, scope)),
    }),
  );

  app.get(
    "/v1/rollouts/:id",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "A wave rollout with its waves, the current one, and each instance's wave and state",
        description:
          "Instances come from the drift-detector's inventory; when it does not answer, `members` is empty and `inventoryError` says why.",
        params: RolloutParams,
        response: { 200: RolloutDetailDto, ...errors },
      },
    },
    async (request) =>
      deps.rollouts.get(request.params.id, (scope) => requireAccess(request, "viewer", scope)),
  );
}
