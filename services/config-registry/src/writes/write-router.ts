import { ApiErrorBody, WriteResultDto } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
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
import { LayerParams } from "../layers/layer-types.js";
import { pendingAnswer } from "./change-request-fns.js";
import type { ChangeRequestService } from "./change-request-service.js";
import { PendingChangeDto } from "./change-request-types.js";
import type { RestoreService } from "./restore-service.js";
import type { WriteService } from "./write-service.js";
import { RestoreBody, RestoreResultDto, RollbackBody, type WriteContext, WriteQuery } from "./write-types.js";

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

/**
 * Every HTTP route that changes a layer: PUT, PATCH and rollback. Each first asks the change-request
 * gate (a protected environment and a caller who is not an admin there: 202 with a pending request),
 * then hands the change to the write service, which stores it as one revision.
 */
export function registerWriteRoutes(
  app: App,
  deps: {
    writes: WriteService;
    restores: RestoreService;
    changeRequests: Pick<ChangeRequestService, "propose">;
  },
): void {
  const { writes, restores, changeRequests } = deps;

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

  const writeRoute = (
    method: "PUT" | "PATCH",
    summary: string,
    description: string,
    write: WriteService["replace"],
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
    writes.replace,
    "replace",
  );
  writeRoute(
    "PATCH",
    "Change part of a layer with a JSON Merge Patch (RFC 7396); creates a revision",
    `${concurrency} Content-Type: application/merge-patch+json; \`null\` deletes a key. ${gated} ${git}`,
    writes.patch,
    "patch",
  );

  app.post(
    "/v1/namespaces/:ns/layers/:layer/rollback",
    {
      config: { access: access.writeLayer },
      schema: {
        tags: ["revisions"],
        summary: "Roll a layer back: a new revision with the content of an older one",
        params: LayerParams,
        body: RollbackBody,
        response: { 200: WriteResultDto, 202: PendingChangeDto, ...errors },
      },
    },
    async (request, reply) => {
      const pending = await changeRequests.propose(
        request.params.ns,
        request.params.layer,
        {
          kind: "rollback",
          body: {},
          revision: request.body.revision,
          message: request.body.message ?? "",
          expectedRevision: expectedRevisionOf(request),
        },
        callerOf(request),
      );
      if (pending) return reply.status(202).send(pendingAnswer(pending));
      const result = await writes.rollback(request.params.ns, request.params.layer, request.body.revision, {
        author: authorOf(request),
        message: request.body.message ?? "",
        expectedRevision: expectedRevisionOf(request),
        traceparent: traceparentOf(request),
        audit: committedAuditOf(request),
      });
      noteAuditCommitted(request, result);
      reply.header("etag", etag(result.revision));
      return result;
    },
  );

  app.post(
    "/v1/namespaces/:ns/restore",
    {
      config: { access: access.restoreNamespace },
      schema: {
        tags: ["revisions"],
        summary:
          "Restore layers from a backup: a new revision per changed layer, source `restore:<label>` (admin)",
        description:
          "What the backup service's point-in-time restore calls. Each layer's content replaces the layer through the normal write path (schemas, references and policies apply; protected environments are not gated: only an admin may restore). `dryRun` reports the diffs only.",
        params: z.object({ ns: LayerParams.shape.ns }),
        body: RestoreBody,
        response: { 200: RestoreResultDto, ...errors },
      },
    },
    async (request) =>
      restores.restore(request.params.ns, request.body.layers, {
        author: authorOf(request),
        message: request.body.message ?? "",
        traceparent: traceparentOf(request),
        label: request.body.label,
        dryRun: request.body.dryRun,
      }),
  );
}
