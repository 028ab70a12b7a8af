import {
  ApiErrorBody,
  CreateNamespaceBody,
  NamespaceDto,
  NamespacePageDto,
  UpdateNamespaceBody,
} from "@nexus/contracts";
import { type App, canAccess, requireAccess } from "@nexus/kit";
import { z } from "zod";
import { access } from "../http/access-scopes.js";
import { callerOf } from "../http/caller.js";
import { traceparentOf } from "../http/request-context.js";
import type { NamespaceService } from "./namespace-service.js";
import { NamespaceParams } from "./namespace-types.js";

const tags = ["namespaces"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 409: ApiErrorBody, 422: ApiErrorBody };

export function registerNamespaceRoutes(app: App, deps: { namespaces: NamespaceService }): void {
  const { namespaces } = deps;

  app.post(
    "/v1/namespaces",
    {
      config: { access: access.anyToken },
      schema: {
        tags,
        summary: "Create a namespace",
        description:
          "Needs the editor role on the new name (and every environment), checked against the body.",
        body: CreateNamespaceBody,
        response: { 201: NamespaceDto, ...errors },
      },
    },
    async (request, reply) => {
      requireAccess(request, "editor", { namespace: request.body.name, environment: "*" });
      const ns = await namespaces.create(request.body);
      reply.header("location", `/v1/namespaces/${ns.name}`);
      return reply.status(201).send(ns);
    },
  );

  app.get(
    "/v1/namespaces",
    {
      config: { access: access.anyToken },
      schema: {
        tags,
        summary: "List the namespaces this token may see (by name, paged with `after`)",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          after: z.string().max(63).optional(),
        }),
        response: { 200: NamespacePageDto, ...errors },
      },
    },
    async (request) => {
      const visible = (name: string) => canAccess(request.principal, "viewer", { namespace: name });
      const items = await namespaces.list({ ...request.query, visible });
      const next = items.length === request.query.limit ? items[items.length - 1]!.name : null;
      return { items, next };
    },
  );

  app.get(
    "/v1/namespaces/:ns",
    {
      config: { access: access.readNamespace },
      schema: {
        tags,
        summary: "Show a namespace",
        params: NamespaceParams,
        response: { 200: NamespaceDto, ...errors },
      },
    },
    async (request) => namespaces.get(request.params.ns),
  );

  app.patch(
    "/v1/namespaces/:ns",
    {
      config: { access: access.editNamespace },
      schema: {
        tags,
        summary: "Update description, owners, environments or variables",
        description:
          "Changing variables or environments re-resolves the namespace (and those referencing it) and publishes `config.changed` where the result changed. Variables reach every environment at once: where some are protected (`PROTECTED_ENVIRONMENTS`), only an admin of those may change them (403 `protected_environment`).",
        params: NamespaceParams,
        body: UpdateNamespaceBody,
        response: { 200: NamespaceDto, ...errors },
      },
    },
    async (request) =>
      namespaces.update(request.params.ns, request.body, callerOf(request), traceparentOf(request)),
  );

  app.delete(
    "/v1/namespaces/:ns",
    {
      config: { access: access.deleteNamespace },
      schema: {
        tags,
        summary: "Delete a namespace and its history",
        params: NamespaceParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await namespaces.delete(request.params.ns);
      return reply.status(204).send(null);
    },
  );
}
