import { ApiErrorBody, EnvironmentName, NamespaceName } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { tokenOf } from "../http/request-meta.js";
import type { RelayClient } from "./relay-client.js";

const Source = z.object({ layer: z.string(), revision: z.number().int().nullable() });
const Side = z.object({ environment: z.string(), revision: z.number().int(), hash: z.string() });
/** The registry's comparison as it answers it (secrets `***` on both sides, for everyone). */
const CompareDto = z.object({
  namespace: z.string(),
  from: Side,
  to: Side,
  changes: z.array(
    z.object({
      op: z.enum(["add", "remove", "replace"]),
      path: z.string(),
      from: z.unknown().optional(),
      to: z.unknown().optional(),
      fromSource: Source.optional(),
      toSource: Source.optional(),
    }),
  ),
});
const CompareQuery = z.object({
  from: EnvironmentName.describe("The environment compared from (e.g. staging)"),
  to: EnvironmentName.describe("The environment compared to (e.g. production)"),
});

/**
 * The dashboard's environment comparison: the registry's `compare` answer, asked with the user's
 * own token (viewer on both environments, the registry decides), passed through unchanged.
 */
export function registerCompareRoutes(app: App, deps: { registry: RelayClient }): void {
  app.get(
    "/v1/dashboard/namespaces/:ns/compare",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["dashboard"],
        summary:
          "Two environments of a namespace side by side, key by key with provenance, from the registry",
        params: z.object({ ns: NamespaceName }),
        querystring: CompareQuery,
        response: {
          200: CompareDto,
          400: ApiErrorBody,
          401: ApiErrorBody,
          403: ApiErrorBody,
          404: ApiErrorBody,
          503: ApiErrorBody,
        },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      const res = await deps.registry.call(
        "GET",
        `/v1/namespaces/${encodeURIComponent(request.params.ns)}/compare?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
        tokenOf(request),
      );
      return res.body as z.infer<typeof CompareDto>;
    },
  );
}
