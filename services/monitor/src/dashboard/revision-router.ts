import { ApiErrorBody, NamespaceName, RevisionSummaryDto } from "@nexus/contracts";
import { type App, canAccess } from "@nexus/kit";
import { z } from "zod";
import { tokenOf } from "../http/request-meta.js";
import type { RegistryClient } from "./relay-client.js";

const LayerParams = z.object({
  ns: NamespaceName,
  layer: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be `base` or an environment name"),
});
const RevisionNumber = z.coerce.number().int().min(1).max(2_147_483_647);

const RevisionHistoryDto = z.object({
  items: z.array(RevisionSummaryDto),
  mayRollBack: z
    .boolean()
    .describe("Whether the caller's grants let them roll this layer back (the registry decides again)"),
});
const RevisionDto = RevisionSummaryDto.extend({
  content: z.record(z.string(), z.unknown()).describe("Secrets redacted unless the caller may read them"),
  diff: z.array(z.unknown()).describe("RFC 6902 operations from the previous revision"),
});
const RollbackBody = z.strictObject({
  revision: RevisionNumber.describe("The revision whose content becomes the layer's again"),
  message: z.string().max(1000).optional(),
  expectedRevision: RevisionNumber.optional().describe(
    "The layer's newest revision as the page showed it: the registry refuses (409) if it has moved since",
  ),
});
const RollbackAnswer = z.union([
  z.object({ namespace: z.string(), layer: z.string(), revision: z.number().int() }).loose(),
  z.object({ message: z.string(), changeRequest: z.object({ id: z.string() }).loose() }).loose(),
]);

const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
  503: ApiErrorBody,
};
const tags = ["dashboard"];
const layerPath = (p: { ns: string; layer: string }) =>
  `/v1/namespaces/${encodeURIComponent(p.ns)}/layers/${encodeURIComponent(p.layer)}`;

/**
 * The dashboard's revision view: a layer's history, one revision with its diff, and rollback, all
 * asked of the registry with the user's own token (its access rules, secret redaction and
 * change-request gate apply unchanged). The page cannot call the registry itself (one origin).
 */
export function registerRevisionRoutes(app: App, deps: { registry: RegistryClient }): void {
  app.get(
    "/v1/dashboard/layers/:ns/:layer/revisions",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "A layer's revisions, newest first, from the registry as the caller may read them",
        params: LayerParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }),
        response: { 200: RevisionHistoryDto, ...errors },
      },
    },
    async (request) => {
      const token = tokenOf(request);
      const { ns, layer } = request.params;
      const res = await deps.registry.call(
        "GET",
        `${layerPath(request.params)}/revisions?limit=${request.query.limit}`,
        token,
      );
      // The registry's own rule: editor on the environment, or on every environment for `base`.
      const mayRollBack = canAccess(request.principal, "editor", {
        namespace: ns,
        environment: layer === "base" ? "*" : layer,
      });
      return { ...(res.body as { items: z.infer<typeof RevisionSummaryDto>[] }), mayRollBack };
    },
  );

  app.get(
    "/v1/dashboard/layers/:ns/:layer/revisions/:n",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary:
          "One revision with its content and its diff to the previous one (secrets redacted by the registry)",
        params: LayerParams.extend({ n: RevisionNumber }),
        response: { 200: RevisionDto, ...errors },
      },
    },
    async (request) => {
      const res = await deps.registry.call(
        "GET",
        `${layerPath(request.params)}/revisions/${request.params.n}`,
        tokenOf(request),
      );
      return res.body as z.infer<typeof RevisionDto>;
    },
  );

  app.post(
    "/v1/dashboard/layers/:ns/:layer/rollback",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary:
          "Roll a layer back through the registry with the caller's token: 200 with the new revision, or 202 when a protected environment makes it a change request",
        params: LayerParams,
        body: RollbackBody,
        response: { 200: RollbackAnswer, 202: RollbackAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const { expectedRevision, ...body } = request.body;
      const res = await deps.registry.call(
        "POST",
        `${layerPath(request.params)}/rollback`,
        tokenOf(request),
        body,
        expectedRevision ? { "if-match": `"${expectedRevision}"` } : {},
      );
      return reply.status(res.status === 202 ? 202 : 200).send(res.body as z.infer<typeof RollbackAnswer>);
    },
  );
}
