import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { actorOf } from "../http/actor.js";
import type { SilenceService } from "./silence-service.js";
import { CreateSilenceBody, EditSilenceBody, SilenceDto, SilenceVersionDto } from "./silence-types.js";

const tags = ["silences"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 422: ApiErrorBody };
const IdParams = z.object({ id: z.uuid() });
const VersionParams = z.object({ version: z.coerce.number().int().min(1) });

export function registerSilenceRoutes(app: App, deps: { silences: SilenceService }): void {
  const { silences } = deps;

  app.post(
    "/v1/silences",
    {
      config: { access: { role: "editor" } },
      schema: {
        tags,
        summary: "Silence alerts matching these matchers between startsAt and endsAt",
        body: CreateSilenceBody,
        response: { 201: SilenceDto, ...errors },
      },
    },
    async (request, reply) => {
      const s = await silences.create(request.body, actorOf(request));
      reply.header("location", `/v1/silences/${s.id}`);
      return reply.status(201).send(s);
    },
  );

  app.get(
    "/v1/silences",
    {
      config: { access: { role: "viewer" } },
      schema: {
        tags,
        summary: "Silences that are active or start later (add expired=true for ended ones too)",
        querystring: z.object({ expired: z.enum(["true", "false"]).default("false") }),
        response: { 200: z.object({ items: z.array(SilenceDto) }), ...errors },
      },
    },
    async (request) => ({ items: await silences.list(request.query.expired === "true") }),
  );

  app.get(
    "/v1/silences/versions",
    {
      config: { access: { role: "viewer" } },
      schema: {
        tags,
        summary: "Every change to silences (created, edited, ended), newest first",
        description: "Each version is immutable: who, why, the silence after the change, and what changed.",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce.number().int().optional().describe("Versions older than this number"),
          silence: z.uuid().optional().describe("Only this silence's versions"),
        }),
        response: { 200: z.object({ items: z.array(SilenceVersionDto) }), ...errors },
      },
    },
    async (request) => ({
      items: await silences.versions({
        limit: request.query.limit,
        before: request.query.before,
        silenceId: request.query.silence,
      }),
    }),
  );

  app.get(
    "/v1/silences/versions/:version",
    {
      config: { access: { role: "viewer" } },
      schema: {
        tags,
        summary: "One version of the silences: the change, its author and comment, and what changed",
        params: VersionParams,
        response: { 200: SilenceVersionDto, ...errors },
      },
    },
    async (request) => silences.version(request.params.version),
  );

  app.patch(
    "/v1/silences/:id",
    {
      config: { access: { role: "editor" } },
      schema: {
        tags,
        summary: "Change a silence that has not ended (matchers, end, comment; start only before it starts)",
        params: IdParams,
        body: EditSilenceBody,
        response: { 200: SilenceDto, ...errors },
      },
    },
    async (request) => silences.edit(request.params.id, request.body, actorOf(request)),
  );

  app.get(
    "/v1/silences/:id",
    {
      config: { access: { role: "viewer" } },
      schema: { tags, summary: "One silence", params: IdParams, response: { 200: SilenceDto, ...errors } },
    },
    async (request) => silences.get(request.params.id),
  );

  app.delete(
    "/v1/silences/:id",
    {
      config: { access: { role: "editor" } },
      schema: {
        tags,
        summary: "End a silence now (it stays on record as expired)",
        params: IdParams,
        querystring: z.object({ comment: z.string().max(1000).optional().describe("Why it was ended") }),
        response: { 200: SilenceDto, ...errors },
      },
    },
    async (request) => silences.expire(request.params.id, actorOf(request), request.query.comment),
  );
}
