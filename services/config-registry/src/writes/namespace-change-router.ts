import { CreateNamespaceBody, NamespaceDto, UpdateNamespaceBody } from "@nexus/contracts";
import { type App, requireAccess } from "@nexus/kit";
import { z } from "zod";
import { access } from "../http/access-scopes.js";
import { callerOf } from "../http/caller.js";
import { traceparentOf } from "../http/request-context.js";
import { NAMESPACE_ERRORS as errors, NAMESPACE_TAGS as tags } from "../namespaces/namespace-router.js";
import { NamespaceParams } from "../namespaces/namespace-types.js";
import type { NamespaceChangeService } from "./namespace-change-service.js";

/** Creating, changing and deleting namespaces (each changes what resolves). */
export function registerNamespaceChangeRoutes(
  app: App,
  deps: { namespaceChanges: NamespaceChangeService },
): void {
  const namespaces = deps.namespaceChanges;

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
