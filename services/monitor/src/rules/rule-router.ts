import { ApiErrorBody } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { actorOf, ifMatchOf } from "../http/request-meta.js";
import type { RuleService } from "./rule-service.js";
import { AlertRule, AlertRuleVersionDto } from "./rule-types.js";

const tags = ["alert-rules"];
const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
};
const admin = { access: { role: "admin" as const } };
const viewer = { access: { role: "viewer" as const } };
const RuleSetBody = z.object({
  rules: z.array(AlertRule).max(200),
  comment: z.string().max(1000).optional(),
});

/** The alert rules: every change is a new numbered version of the whole set. */
export function registerRuleRoutes(app: App, deps: { rules: RuleService }): void {
  const { rules } = deps;

  app.get(
    "/v1/alert-rules",
    {
      config: viewer,
      schema: {
        tags,
        summary: "The alert rules in force (version 0: the built-in defaults)",
        response: { 200: AlertRuleVersionDto, ...errors },
      },
    },
    async (_request, reply) => {
      const v = await rules.current();
      reply.header("etag", `"${v.version}"`);
      return v;
    },
  );

  app.put(
    "/v1/alert-rules",
    {
      config: admin,
      schema: {
        tags,
        summary: "Replace the whole rule set (a new version)",
        description: 'Send `If-Match: "<version>"` to refuse the change when someone saved a newer version.',
        body: RuleSetBody,
        response: { 200: AlertRuleVersionDto, ...errors },
      },
    },
    async (request, reply) => {
      const v = await rules.save(request.body.rules, {
        author: actorOf(request),
        comment: request.body.comment,
        expectedVersion: ifMatchOf(request),
      });
      reply.header("etag", `"${v.version}"`);
      return v;
    },
  );

  app.post(
    "/v1/alert-rules/validate",
    {
      config: admin,
      schema: {
        tags,
        summary: "Check a rule set without saving it",
        body: RuleSetBody,
        response: { 200: z.object({ valid: z.literal(true), rules: z.number() }), ...errors },
      },
    },
    async (request) => {
      rules.validate(request.body.rules);
      return { valid: true as const, rules: request.body.rules.length };
    },
  );

  app.get(
    "/v1/alert-rules/versions",
    {
      config: viewer,
      schema: {
        tags,
        summary: "Earlier versions of the rule set, newest first",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: z.coerce.number().int().optional(),
        }),
        response: { 200: z.object({ items: z.array(AlertRuleVersionDto) }), ...errors },
      },
    },
    async (request) => ({ items: await rules.history(request.query.limit, request.query.before) }),
  );

  app.get(
    "/v1/alert-rules/versions/:version",
    {
      config: viewer,
      schema: {
        tags,
        summary: "One version of the rule set",
        params: z.object({ version: z.coerce.number().int().min(0) }),
        response: { 200: AlertRuleVersionDto, ...errors },
      },
    },
    async (request) => rules.version(request.params.version),
  );
}
