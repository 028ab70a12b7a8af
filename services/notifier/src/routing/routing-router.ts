import { ApiErrorBody } from "@nexus/contracts";
import { type App, BadRequestError } from "@nexus/kit";
import { z } from "zod";
import { actorOf, ifMatchOf } from "../http/actor.js";
import type { RoutingService } from "./routing-service.js";
import { InhibitRule, Receiver, RouteSchema, RoutingConfig, RoutingVersionDto } from "./routing-types.js";

const tags = ["routing"];
const errors = { 400: ApiErrorBody, 404: ApiErrorBody, 409: ApiErrorBody, 422: ApiErrorBody };
const admin = { access: { role: "admin" as const } };
const viewer = { access: { role: "viewer" as const } };
const Comment = z.object({ comment: z.string().max(1000).optional() });
const VersionParams = z.object({ version: z.coerce.number().int().min(1) });
const NameParams = z.object({ name: z.string().min(1).max(63) });

/** Routes, receivers and inhibition rules: every change is a new numbered version of the whole config. */
export function registerRoutingRoutes(app: App, deps: { routing: RoutingService }): void {
  const { routing } = deps;
  const meta = (request: Parameters<typeof actorOf>[0], comment?: string) => ({
    author: actorOf(request),
    comment,
    expectedVersion: ifMatchOf(request),
  });

  app.get(
    "/v1/routing",
    {
      config: viewer,
      schema: {
        tags,
        summary: "The routing config in force (secrets redacted)",
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (_request, reply) => {
      const v = await routing.currentRedacted();
      reply.header("etag", `"${v.version}"`);
      return v;
    },
  );

  app.put(
    "/v1/routing",
    {
      config: admin,
      schema: {
        tags,
        summary: "Replace the whole routing config (a new version)",
        description:
          'Send `If-Match: "<version>"` to refuse the change when someone saved a newer version. Secrets given as `<redacted>` keep the stored value of the receiver with the same name.',
        body: RoutingConfig.extend(Comment.shape),
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) => {
      const { comment, ...config } = request.body;
      return routing.replace(config, meta(request, comment));
    },
  );

  app.get(
    "/v1/routing/versions",
    {
      config: viewer,
      schema: {
        tags,
        summary: "Earlier versions of the routing config, newest first",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce.number().int().optional(),
        }),
        response: { 200: z.object({ items: z.array(RoutingVersionDto) }), ...errors },
      },
    },
    async (request) => ({ items: await routing.history(request.query.limit, request.query.before) }),
  );

  app.get(
    "/v1/routing/versions/:version",
    {
      config: viewer,
      schema: {
        tags,
        summary: "One version of the routing config",
        params: VersionParams,
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) => routing.version(request.params.version),
  );

  app.post(
    "/v1/routing/versions/:version/rollback",
    {
      config: admin,
      schema: {
        tags,
        summary: "Make an earlier version's content the newest version",
        params: VersionParams,
        body: Comment.optional(),
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) => routing.rollback(request.params.version, meta(request, request.body?.comment)),
  );

  app.put(
    "/v1/routing/route",
    {
      config: admin,
      schema: {
        tags,
        summary: "Replace the route tree",
        body: z.object({ route: RouteSchema, ...Comment.shape }),
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) => routing.putRoute(request.body.route, meta(request, request.body.comment)),
  );

  app.put(
    "/v1/routing/inhibit-rules",
    {
      config: admin,
      schema: {
        tags,
        summary: "Replace the inhibition rules",
        body: z.object({ inhibitRules: z.array(InhibitRule).max(200), ...Comment.shape }),
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) =>
      routing.putInhibitRules(request.body.inhibitRules, meta(request, request.body.comment)),
  );

  app.get(
    "/v1/receivers",
    {
      config: viewer,
      schema: {
        tags,
        summary: "Receivers (secrets redacted)",
        response: { 200: z.object({ items: z.array(Receiver), version: z.number().int() }), ...errors },
      },
    },
    async () => {
      const v = await routing.currentRedacted();
      return { items: v.config.receivers, version: v.version };
    },
  );

  app.put(
    "/v1/receivers/:name",
    {
      config: admin,
      schema: {
        tags,
        summary: "Create or replace a receiver (a new version)",
        params: NameParams,
        body: Receiver,
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) => {
      if (request.body.name !== request.params.name) {
        throw new BadRequestError("name_mismatch", "the body's name must be the name in the path", {
          field: "name",
        });
      }
      return routing.putReceiver(request.body, meta(request, `receiver ${request.params.name} saved`));
    },
  );

  app.delete(
    "/v1/receivers/:name",
    {
      config: admin,
      schema: {
        tags,
        summary: "Delete a receiver (refused while a route points to it)",
        params: NameParams,
        response: { 200: RoutingVersionDto, ...errors },
      },
    },
    async (request) =>
      routing.deleteReceiver(request.params.name, meta(request, `receiver ${request.params.name} deleted`)),
  );
}
