import { ApiErrorBody, JobDto, JobListDto, JobRunDto, JobRunListDto } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { actorOf } from "../http/access.js";
import type { JobService } from "./job-service.js";
import { JobParams, JobRunParams, JobRunsQuery } from "./job-types.js";

const tags = ["jobs"];
const errors = { 400: ApiErrorBody, 401: ApiErrorBody, 403: ApiErrorBody, 404: ApiErrorBody };
// Jobs read every namespace (a scan) or the whole system's backups (a drill): admins only.
const admin = { access: { role: "admin" as const } };
const JobBody = z
  .unknown()
  .describe(
    "The job (the name comes from the path): `kind` compliance-scan (namespaces, policies) or backup-drill (timeoutSeconds), and an optional `schedule` (cron, timezone, misfireGraceSeconds).",
  );

export function registerJobRoutes(app: App, deps: { jobs: JobService }): void {
  const { jobs } = deps;

  app.get(
    "/v1/jobs",
    {
      config: admin,
      schema: {
        tags,
        summary: "Maintenance jobs (compliance scans, backup drills) and their next scheduled time",
        response: { 200: JobListDto, ...errors },
      },
    },
    async () => ({ items: await jobs.list() }),
  );

  app.put(
    "/v1/jobs/:name",
    {
      config: admin,
      schema: {
        tags,
        summary: "Create or replace a maintenance job",
        params: JobParams,
        body: JobBody,
        response: { 200: JobDto, 201: JobDto, ...errors },
      },
    },
    async (request, reply) => {
      const { job, created } = await jobs.put(request.params.name, request.body, actorOf(request));
      return reply.status(created ? 201 : 200).send(job);
    },
  );

  app.get(
    "/v1/jobs/:name",
    {
      config: admin,
      schema: { tags, summary: "One job", params: JobParams, response: { 200: JobDto, ...errors } },
    },
    async (request) => jobs.get(request.params.name),
  );

  app.delete(
    "/v1/jobs/:name",
    {
      config: admin,
      schema: {
        tags,
        summary: "Delete a job (its runs stay readable by id)",
        params: JobParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await jobs.delete(request.params.name);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/jobs/:name/runs",
    {
      config: admin,
      schema: {
        tags,
        summary: "Run the job now",
        description: "Answers 202 with the run (`running`); follow it at the Location.",
        params: JobParams,
        response: { 202: JobRunDto, ...errors },
      },
    },
    async (request, reply) => {
      const run = await jobs.startNow(request.params.name, actorOf(request));
      reply.header("location", `/v1/job-runs/${run.id}`);
      return reply.status(202).send(run);
    },
  );

  app.get(
    "/v1/jobs/:name/runs",
    {
      config: admin,
      schema: {
        tags,
        summary: "The job's runs, newest first",
        params: JobParams,
        querystring: JobRunsQuery,
        response: { 200: JobRunListDto, ...errors },
      },
    },
    async (request) => ({ items: await jobs.runs(request.params.name, request.query.limit) }),
  );

  app.get(
    "/v1/job-runs/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "One job run: status, summary, findings",
        params: JobRunParams,
        response: { 200: JobRunDto, ...errors },
      },
    },
    async (request) => jobs.run(request.params.id),
  );
}
