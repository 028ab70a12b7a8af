import { ApiErrorBody, NamespaceDto, NamespacePageDto } from "@nexus/contracts";
import { type App, canAccess } from "@nexus/kit";
import { z } from "zod";
import { access } from "../http/access-scopes.js";
import type { NamespaceService } from "./namespace-service.js";
import { NamespaceParams } from "./namespace-types.js";

export const NAMESPACE_TAGS = ["namespaces"];
export const NAMESPACE_ERRORS = {
  400: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
};
const tags = NAMESPACE_TAGS;
const errors = NAMESPACE_ERRORS;

/** Listing and showing namespaces; creating, changing and deleting them: `writes/namespace-change-router.ts`. */
export function registerNamespaceRoutes(app: App, deps: { namespaces: NamespaceService }): void {
  const { namespaces } = deps;

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
}
