import { ApiErrorBody, ComparisonDto, ResolvedDto } from "@nexus/contracts";
import { type App, BadRequestError, fastValidatorCompiler, requireAccess } from "@nexus/kit";
import type { FastifyReply } from "fastify";
import { access } from "../http/access-scopes.js";
import { etag, matchesIfNoneMatch } from "../http/request-context.js";
import { secretReaderOf } from "../secrets/secret-access.js";
import type { ResolveHistory } from "./resolve-history.js";
import type { ResolveReadService } from "./resolve-read-service.js";
import { CompareQuery, ResolvedParams, ResolvedQuery } from "./resolve-types.js";
import {
  AWAITED_HEADER,
  awaitedVersionOf,
  resolvedParamsCheck,
  resolvedQueryCheck,
} from "./resolved-route-fns.js";

const errors = { 400: ApiErrorBody, 404: ApiErrorBody };

/**
 * 304 with no payload: fastify then sends neither a body nor a Content-Length. `send(null)` had it
 * serialize `null` and announce 4 bytes that a 304 never carries; undici (the SDK's HTTP client)
 * then closes the keep-alive connection, so every poll that found nothing new cost a reconnect.
 */
const notModified = (reply: FastifyReply) => reply.status(304).send();

export function registerResolveRoutes(
  app: App,
  deps: { reads: ResolveReadService; history: ResolveHistory },
): void {
  const { reads, history } = deps;

  app.get(
    "/v1/namespaces/:ns/environments/:env/resolved",
    {
      config: { access: access.readResolved },
      // The hottest route: its params and query are checked without zod when they are valid.
      validatorCompiler: fastValidatorCompiler({
        params: resolvedParamsCheck,
        querystring: resolvedQueryCheck,
      }),
      schema: {
        tags: ["resolved"],
        summary: "The resolved configuration: base ⊕ overlay with references resolved",
        description:
          "ETag is the sha256 of the canonical JSON of `content`; `If-None-Match` gets 304. `Nexus-Revision` carries the revision. A conditional read may send `Nexus-Awaited: <revision>:<hash>` (of the `config.changed` it follows): the instance then answers from its memory when it holds exactly that version (400 `invalid_header` for any other value). `?explain=true` adds per-key provenance. `?revision=n`: as of namespace revision n (404 `revision_not_found` past the newest).",
        params: ResolvedParams,
        querystring: ResolvedQuery,
        response: { 200: ResolvedDto, ...errors },
      },
    },
    async (request, reply) => {
      const { ns, env } = request.params;
      const { revision } = request.query;
      const awaited = awaitedVersionOf(request.headers[AWAITED_HEADER]);
      if (revision !== undefined && request.query.explain)
        throw new BadRequestError(
          "explain_with_revision",
          "explain is served for the current revision only",
          {
            field: "explain",
          },
        );
      if (revision !== undefined) {
        const past = await history.at(ns, env, revision, { revealSecrets: secretReaderOf(request, env) });
        const tag = etag(past.hash);
        reply.header("etag", tag).header("nexus-revision", past.revision).header("cache-control", "no-cache");
        if (matchesIfNoneMatch(request.headers["if-none-match"], tag)) return notModified(reply);
        return reply
          .serializer((payload: unknown) => payload as string)
          .type("application/json; charset=utf-8")
          .send(past.body as never);
      }
      if (request.query.explain) {
        const { head, explain } = await reads.explain(ns, env, {
          revealSecrets: secretReaderOf(request, env),
        });
        reply.header("etag", etag(head.hash)).header("nexus-revision", head.revision);
        return { ...(JSON.parse(head.body) as object), explain } as never;
      }
      const ifNoneMatch = request.headers["if-none-match"];
      const head = await reads.get(ns, env, {
        conditional: ifNoneMatch !== undefined,
        awaited,
        revealSecrets: secretReaderOf(request, env),
      });
      const tag = etag(head.hash);
      reply.header("etag", tag).header("nexus-revision", head.revision).header("cache-control", "no-cache");
      if (matchesIfNoneMatch(ifNoneMatch, tag)) return notModified(reply);
      // The body was rendered at write time from validated data: send the bytes as they are.
      return reply
        .serializer((payload: unknown) => payload as string)
        .type("application/json; charset=utf-8")
        .send((head.encoded ?? head.body) as never);
    },
  );

  app.get(
    "/v1/namespaces/:ns/compare",
    {
      config: { access: access.readNamespace },
      schema: {
        tags: ["resolved"],
        summary: "Two environments side by side: the RFC 6902 changes from one to the other, with provenance",
        description:
          "What a promotion from `from` to `to` would change, key by key, with where each side's value comes from (layer and revision). Secrets are `***` on both sides, for everyone. Needs viewer on both environments.",
        params: ResolvedParams.pick({ ns: true }),
        querystring: CompareQuery,
        response: { 200: ComparisonDto, ...errors, 403: ApiErrorBody },
      },
    },
    async (request) => {
      const { ns } = request.params;
      const { from, to } = request.query;
      for (const environment of [from, to]) requireAccess(request, "viewer", { namespace: ns, environment });
      return reads.compare(ns, from, to);
    },
  );
}
