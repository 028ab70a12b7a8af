import {
  ApiErrorBody,
  CreatedTokenDto,
  CreateTokenBody,
  TokenDto,
  TokenListDto,
  WhoAmIDto,
} from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { authorOf } from "../http/request-context.js";
import type { TokenService } from "./token-service.js";
import { TokenParams } from "./token-types.js";

const tags = ["tokens"];
const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  422: ApiErrorBody,
};
const admin = { access: { role: "admin" as const } };

export function registerTokenRoutes(app: App, deps: { tokens: TokenService }): void {
  const { tokens } = deps;

  app.get(
    "/v1/whoami",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "Who this token is and what it may do",
        response: { 200: WhoAmIDto, ...errors },
      },
    },
    async (request) => {
      const p = request.principal!;
      return {
        subject: p.subject,
        name: p.name,
        kind: p.kind,
        grants: p.grants.map((g) => ({
          ...g,
          namespaces: [...g.namespaces],
          environments: [...g.environments],
        })),
      };
    },
  );

  app.post(
    "/v1/tokens",
    {
      config: admin,
      schema: {
        tags,
        summary: "Create an API token",
        description: "The token is in the response once and never again; only a keyed digest is stored.",
        body: CreateTokenBody,
        response: { 201: CreatedTokenDto, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await tokens.create(request.body, authorOf(request))),
  );

  app.get(
    "/v1/tokens",
    {
      config: admin,
      schema: {
        tags,
        summary: "List API tokens (never their values)",
        querystring: z.object({ includeRevoked: z.enum(["true", "false"]).default("false") }),
        response: { 200: TokenListDto, ...errors },
      },
    },
    async (request) => ({ tokens: await tokens.list(request.query.includeRevoked === "true") }),
  );

  app.get(
    "/v1/tokens/:id",
    {
      config: admin,
      schema: { tags, summary: "One API token", params: TokenParams, response: { 200: TokenDto, ...errors } },
    },
    async (request) => tokens.get(request.params.id),
  );

  app.delete(
    "/v1/tokens/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Revoke an API token",
        description:
          "Refused everywhere at once: every service drops it from its cache on the revocation event.",
        params: TokenParams,
        response: { 200: TokenDto, ...errors },
      },
    },
    async (request) => tokens.revoke(request.params.id, authorOf(request)),
  );
}
