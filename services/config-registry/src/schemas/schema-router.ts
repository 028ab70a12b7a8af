import { ApiErrorBody, NamespaceSchemaDto } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { access } from "../http/access-scopes.js";
import { authorOf } from "../http/request-context.js";
import { NamespaceParams } from "../namespaces/namespace-types.js";
import type { SchemaService } from "./schema-service.js";

const tags = ["schemas"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 422: ApiErrorBody };

export function registerSchemaRoutes(app: App, deps: { schemas: SchemaService }): void {
  const { schemas } = deps;

  app.get(
    "/v1/namespaces/:ns/schema",
    {
      config: { access: access.readNamespace },
      schema: {
        tags,
        summary: "The namespace's JSON Schema",
        params: NamespaceParams,
        response: { 200: NamespaceSchemaDto, ...errors },
      },
    },
    async (request) => schemas.get(request.params.ns),
  );

  app.put(
    "/v1/namespaces/:ns/schema",
    {
      config: { access: access.editNamespace },
      schema: {
        tags,
        summary: "Set the JSON Schema every resolved environment must satisfy",
        description:
          "Refused with 422 if it is not a valid JSON Schema, or if the current configuration of any environment breaks it.",
        params: NamespaceParams,
        body: z.record(z.string(), z.unknown()),
        response: { 200: NamespaceSchemaDto, ...errors },
      },
    },
    async (request) => schemas.put(request.params.ns, request.body, authorOf(request)),
  );

  app.delete(
    "/v1/namespaces/:ns/schema",
    {
      config: { access: access.editNamespace },
      schema: {
        tags,
        summary: "Remove the JSON Schema",
        params: NamespaceParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await schemas.delete(request.params.ns);
      return reply.status(204).send(null);
    },
  );
}
