import { ApiErrorBody } from "@nexus/contracts";
import { type App, requireAccess } from "@nexus/kit";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { actorOf, mayView, pipelineScope } from "../http/access.js";
import type { PipelineService } from "./pipeline-service.js";
import { PipelineDto, PipelineParams, PipelineVersionDto } from "./pipeline-types.js";

const tags = ["pipelines"];
const errors = { 400: ApiErrorBody, 403: ApiErrorBody, 404: ApiErrorBody, 409: ApiErrorBody };
const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml"];
const anyToken = { access: { authenticated: true as const } };
const PipelineBody = z
  .unknown()
  .describe(
    "The pipeline: JSON, or YAML with `content-type: application/yaml`. Fields: name, namespace, source, target, pinnedPaths, rollbackOnFailure, triggers, steps (validate, approve, promote, wait-applied, health-gate, http-hook, run, rollback).",
  );

const editorOf = (request: FastifyRequest) => (scope: Parameters<typeof requireAccess>[2]) =>
  requireAccess(request, "editor", scope);

export function registerPipelineRoutes(app: App, deps: { pipelines: PipelineService }): void {
  const { pipelines } = deps;
  for (const type of YAML_TYPES)
    app.addContentTypeParser(type, { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.get(
    "/v1/pipelines",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Pipelines this token may see (viewer of the namespace in the target environment)",
        response: { 200: z.object({ items: z.array(PipelineDto) }), ...errors },
      },
    },
    async (request) => ({
      items: (await pipelines.list()).filter((p) => mayView(request, pipelineScope(p))),
    }),
  );

  app.post(
    "/v1/pipelines",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Create a pipeline (editor of its namespace in the target environment)",
        body: PipelineBody,
        response: { 201: PipelineDto, ...errors },
      },
    },
    async (request, reply) => {
      const created = await pipelines.create(request.body, actorOf(request), editorOf(request));
      reply.header("location", `/v1/pipelines/${created.name}`);
      return reply.status(201).send(created);
    },
  );

  app.get(
    "/v1/pipelines/:name",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "A pipeline's current version",
        params: PipelineParams,
        response: { 200: PipelineDto, ...errors },
      },
    },
    async (request) => {
      const p = await pipelines.get(request.params.name);
      requireAccess(request, "viewer", pipelineScope(p));
      return p;
    },
  );

  app.put(
    "/v1/pipelines/:name",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Replace a pipeline: a new version (runs keep the version they started with)",
        params: PipelineParams,
        body: PipelineBody,
        response: { 200: PipelineDto, ...errors },
      },
    },
    async (request) =>
      pipelines.update(request.params.name, request.body, actorOf(request), editorOf(request)),
  );

  app.get(
    "/v1/pipelines/:name/versions",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Every version of a pipeline, newest first",
        params: PipelineParams,
        response: { 200: z.object({ items: z.array(PipelineVersionDto) }), ...errors },
      },
    },
    async (request) => {
      requireAccess(request, "viewer", pipelineScope(await pipelines.get(request.params.name)));
      return { items: await pipelines.versions(request.params.name) };
    },
  );

  app.delete(
    "/v1/pipelines/:name",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Delete a pipeline and its versions (its runs stay)",
        params: PipelineParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await pipelines.delete(request.params.name, editorOf(request));
      return reply.status(204).send(null);
    },
  );
}
