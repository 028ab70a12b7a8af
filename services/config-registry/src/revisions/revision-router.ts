import {
  ApiErrorBody,
  LayerDiffDto,
  RevisionDto,
  RevisionHistoryDto,
  RevisionRecordDto,
} from "@nexus/contracts";
import { type App, canAccess } from "@nexus/kit";
import { access } from "../http/access-scopes.js";

import { LayerParams } from "../layers/layer-types.js";
import { NamespaceParams } from "../namespaces/namespace-types.js";
import { secretReaderOfLayer } from "../secrets/secret-access.js";
import type { RevisionService } from "./revision-service.js";
import { DiffQuery, HistoryQuery, RevisionParams } from "./revision-types.js";

const tags = ["revisions"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 409: ApiErrorBody, 422: ApiErrorBody };

export function registerRevisionRoutes(app: App, deps: { revisions: RevisionService }): void {
  const { revisions } = deps;

  app.get(
    "/v1/namespaces/:ns/layers/:layer/revisions",
    {
      config: { access: access.readLayer },
      schema: {
        tags,
        summary: "History of a layer, newest first",
        params: LayerParams,
        querystring: HistoryQuery,
        response: { 200: RevisionHistoryDto, ...errors },
      },
    },
    async (request) => ({
      items: await revisions.history(request.params.ns, request.params.layer, request.query),
    }),
  );

  app.get(
    "/v1/namespaces/:ns/layers/:layer/revisions/:n",
    {
      config: { access: access.readLayer },
      schema: {
        tags,
        summary: "One revision with its content and its diff to the previous one",
        params: LayerParams.extend(RevisionParams.shape),
        response: { 200: RevisionDto, ...errors },
      },
    },
    async (request) =>
      revisions.get(request.params.ns, request.params.layer, request.params.n, {
        revealSecrets: secretReaderOfLayer(request, request.params.layer),
      }),
  );

  app.get(
    "/v1/namespaces/:ns/layers/:layer/diff",
    {
      config: { access: access.readLayer },
      schema: {
        tags,
        summary: "RFC 6902 diff between two revisions of a layer",
        params: LayerParams,
        querystring: DiffQuery,
        response: { 200: LayerDiffDto, ...errors },
      },
    },
    async (request) =>
      revisions.diff(request.params.ns, request.params.layer, request.query.from, request.query.to),
  );

  app.get(
    "/v1/namespaces/:ns/revisions/:n",
    {
      config: { access: access.readNamespace },
      schema: {
        tags,
        summary: "Who wrote a revision, when, and the config.changed events it published (no content)",
        description:
          "Revisions are numbered per namespace, so the layer need not be known. Events are listed for the environments the caller may view. The monitor's timeline (`nexus trace`) starts here.",
        params: NamespaceParams.extend(RevisionParams.shape),
        response: { 200: RevisionRecordDto, ...errors },
      },
    },
    async (request) =>
      revisions.record(request.params.ns, request.params.n, (environment) =>
        canAccess(request.principal, "viewer", { namespace: request.params.ns, environment }),
      ),
  );
}
