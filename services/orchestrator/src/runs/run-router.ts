import { ApiErrorBody } from "@nexus/contracts";
import { type App, type Role, requireAccess } from "@nexus/kit";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { actorOf, mayView, pipelineScope } from "../http/access.js";
import { PipelineParams } from "../pipelines/pipeline-types.js";
import type { RunService } from "./run-service.js";
import { DecisionBody, RunDetailDto, RunDto, RunParams, RunQuery, StartRunBody } from "./run-types.js";

const tags = ["runs"];
const errors = {
  400: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  503: ApiErrorBody,
};
const anyToken = { access: { authenticated: true as const } };

const needs = (request: FastifyRequest, role: Role) => (scope: Parameters<typeof requireAccess>[2]) =>
  requireAccess(request, role, scope);

export function registerRunRoutes(app: App, deps: { runs: RunService }): void {
  const { runs } = deps;

  app.post(
    "/v1/pipelines/:name/runs",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Start a run by hand (editor of the namespace in the target environment)",
        description:
          "The source overlay revision is pinned at start: the run promotes exactly that revision, whatever is written meanwhile.",
        params: PipelineParams,
        body: StartRunBody,
        response: { 201: RunDetailDto, ...errors },
      },
    },
    async (request, reply) => {
      const run = await runs.start(
        request.params.name,
        request.body?.sourceRevision,
        actorOf(request),
        needs(request, "editor"),
      );
      reply.header("location", `/v1/runs/${run.id}`);
      return reply.status(201).send(run);
    },
  );

  app.get(
    "/v1/runs",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Runs this token may see, newest first",
        querystring: RunQuery,
        response: { 200: z.object({ items: z.array(RunDto) }), ...errors },
      },
    },
    async (request) => ({
      items: await runs.list(request.query, (r) => mayView(request, pipelineScope(r))),
    }),
  );

  app.get(
    "/v1/runs/:id",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "A run with its steps (status, attempts, what each did) and approvals",
        params: RunParams,
        response: { 200: RunDetailDto, ...errors },
      },
    },
    async (request) => runs.get(request.params.id, needs(request, "viewer")),
  );

  app.post(
    "/v1/runs/:id/approve",
    {
      config: anyToken,
      schema: {
        tags,
        summary:
          "Approve the step a run waits on (approver of the namespace in the target environment; not the run's author)",
        params: RunParams,
        body: DecisionBody,
        response: { 200: RunDetailDto, ...errors },
      },
    },
    async (request) =>
      runs.approve(
        request.params.id,
        actorOf(request),
        request.body?.comment ?? "",
        needs(request, "approver"),
      ),
  );

  app.post(
    "/v1/runs/:id/cancel",
    {
      config: anyToken,
      schema: {
        tags,
        summary:
          "Stop a run (editor of the namespace in the target environment): it fails at the step it is on and rolls back what it promoted",
        params: RunParams,
        response: { 200: RunDetailDto, ...errors },
      },
    },
    async (request) => runs.cancel(request.params.id, actorOf(request), needs(request, "editor")),
  );

  app.post(
    "/v1/runs/:id/reject",
    {
      config: anyToken,
      schema: {
        tags,
        summary: "Reject the step a run waits on: the run stops (approver; not the run's author)",
        params: RunParams,
        body: DecisionBody,
        response: { 200: RunDetailDto, ...errors },
      },
    },
    async (request) =>
      runs.reject(
        request.params.id,
        actorOf(request),
        request.body?.comment ?? "",
        needs(request, "approver"),
      ),
  );
}
