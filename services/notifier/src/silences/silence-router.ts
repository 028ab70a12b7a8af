import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { actorOf } from "../http/actor.js";
import type { SilenceService } from "./silence-service.js";
import { CreateSilenceBody, SilenceDto } from "./silence-types.js";

const tags = ["silences"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 422: ApiErrorBody };
const IdParams = z.object({ id: z.uuid() });

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
        response: { 200: SilenceDto, ...errors },
      },
    },
    async (request) => silences.expire(request.params.id, actorOf(request)),
  );
}
