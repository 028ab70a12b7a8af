import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { pendingAnswer } from "../change-requests/change-request-fns.js";
import type { ChangeRequestService } from "../change-requests/change-request-service.js";
import { PendingChangeDto } from "../change-requests/change-request-types.js";
import { access } from "../http/access-scopes.js";
import { callerOf } from "../http/caller.js";
import {
  authorOf,
  committedAuditOf,
  etag,
  expectedRevisionOf,
  noteAuditCommitted,
  traceparentOf,
} from "../http/request-context.js";
import { secretReaderOfLayer } from "../secrets/secret-access.js";
import type { LayerService } from "./layer-service.js";
import { LayerDto, LayerParams, type WriteContext, WriteQuery, WriteResultDto } from "./layer-types.js";

const tags = ["layers"];
const errors = {
  400: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  413: ApiErrorBody,
  415: ApiErrorBody,
  422: ApiErrorBody,
};
const Document = z
  .record(z.string(), z.unknown())
  .describe("A JSON object (YAML and .env bodies are accepted too)");

export function registerLayerRoutes(
  app: App,
  deps: { layers: LayerService; changeRequests: Pick<ChangeRequestService, "propose"> },
): void {
  const { layers, changeRequests } = deps;

  const context = (
    request: Parameters<typeof authorOf>[0],
    query: { message?: string | undefined; override?: "git" | undefined },
  ): WriteContext => ({
    author: authorOf(request),
    message: query.message ?? "",
    source: "api",
    expectedRevision: expectedRevisionOf(request),
    traceparent: traceparentOf(request),
    gitOverride: query.override === "git",
    audit: committedAuditOf(request),
  });

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

  const writeRoute = (
    method: "PUT" | "PATCH",
    summary: string,
    description: string,
    write: LayerService["replace"],
    kind: "replace" | "patch",
  ) =>
    app.route({
      method,
      url: "/v1/namespaces/:ns/layers/:layer",
      config: { access: access.writeLayer },
      schema: {
        tags,
        summary,
        description,
        params: LayerParams,
        querystring: WriteQuery,
        body: Document,
        response: { 200: WriteResultDto, 202: PendingChangeDto, ...errors },
      },
      handler: async (request, reply) => {
        const { ns, layer } = request.params;
        const ctx = context(request, request.query);
        const pending = await changeRequests.propose(
          ns,
          layer,
          { kind, body: request.body, message: ctx.message, expectedRevision: ctx.expectedRevision },
          callerOf(request),
        );
        if (pending) return reply.status(202).send(pendingAnswer(pending));
        const result = await write(ns, layer, request.body, ctx);
        noteAuditCommitted(request, result);
        reply.header("etag", etag(result.revision));
        return result;
      },
    });

  const gated =
    "A write that reaches a protected environment by someone who is not an admin there becomes a change request (202) for an approver.";
  const git =
    "A layer that follows a Git source refuses writes (409 `git_bound_layer`, naming the repository and file) unless `?override=git`, which is recorded and reported as source drift.";
  const concurrency =
    'Send `If-Match: "<revision>"` to refuse the write (409) when someone changed the layer since you read it.';
  writeRoute(
    "PUT",
    "Replace a layer; creates a revision",
    `${concurrency} Content-Type: application/json, application/yaml or application/x-env. ${gated} ${git}`,
    layers.replace,
    "replace",
  );
  writeRoute(
    "PATCH",
    "Change part of a layer with a JSON Merge Patch (RFC 7396); creates a revision",
    `${concurrency} Content-Type: application/merge-patch+json; \`null\` deletes a key. ${gated} ${git}`,
    layers.patch,
    "patch",
  );
}
