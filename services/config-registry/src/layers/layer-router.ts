import { ApiErrorBody, LayerDto } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { access } from "../http/access-scopes.js";
import { etag } from "../http/request-context.js";
import { secretReaderOfLayer } from "../secrets/secret-access.js";
import type { LayerService } from "./layer-service.js";
import { LayerParams } from "./layer-types.js";

const tags = ["layers"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody };

/** Reading a layer; writes are routed in `writes/write-router.ts`. */
export function registerLayerRoutes(app: App, deps: { layers: LayerService }): void {
  const { layers } = deps;

  app.get(
    "/v1/namespaces/:ns/layers/:layer",
    {
      config: { access: access.readLayer },
      schema: {
        tags,
        summary: "Read a layer as written (base or an environment overlay); ETag is its revision",
        params: LayerParams,
        response: { 200: LayerDto, ...errors },
      },
    },
    async (request, reply) => {
      const head = await layers.get(request.params.ns, request.params.layer, {
        revealSecrets: secretReaderOfLayer(request, request.params.layer),
      });
      reply.header("etag", etag(head.revision));
      return { ...head, updatedAt: head.updatedAt || null };
    },
  );
}
