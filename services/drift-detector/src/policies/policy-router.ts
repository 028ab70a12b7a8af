import { ApiErrorBody, EnvironmentName, NamespaceName, PolicyViolation } from "@nexus/contracts";
import type { App } from "@nexus/kit";
import { z } from "zod";
import { actorOf } from "../http/access.js";
import type { PolicyService } from "./policy-service.js";
import { PolicyDto, PolicyInput, PolicyParams } from "./policy-types.js";

const tags = ["policies"];
const errors = {
  400: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
};
const admin = { access: { role: "admin" as const } };

export function registerPolicyRoutes(app: App, deps: { policies: PolicyService }): void {
  const { policies } = deps;

  app.get(
    "/v1/policies",
    {
      config: admin,
      schema: {
        tags,
        summary: "List compliance policies",
        querystring: z.object({ environment: EnvironmentName.optional() }),
        response: { 200: z.object({ items: z.array(PolicyDto) }), ...errors },
      },
    },
    async (request) => ({ items: await policies.list(request.query.environment) }),
  );

  app.post(
    "/v1/policies",
    {
      config: admin,
      schema: {
        tags,
        summary: "Create a policy: rules over JSON paths for one environment",
        description:
          "Rules: `required`, `equals`/`not-equals` (`value`), `regex` (`pattern`), `min`/`max` (`value`), `forbidden` (`values`). A missing key breaks required, equals, regex, min and max.",
        body: PolicyInput,
        response: { 201: PolicyDto, ...errors },
      },
    },
    async (request, reply) => {
      const created = await policies.create(request.body, actorOf(request));
      reply.header("location", `/v1/policies/${created.id}`);
      return reply.status(201).send(created);
    },
  );

  app.get(
    "/v1/policies/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Show a policy",
        params: PolicyParams,
        response: { 200: PolicyDto, ...errors },
      },
    },
    async (request) => policies.get(request.params.id),
  );

  app.put(
    "/v1/policies/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Replace a policy",
        params: PolicyParams,
        body: PolicyInput,
        response: { 200: PolicyDto, ...errors },
      },
    },
    async (request) => policies.update(request.params.id, request.body, actorOf(request)),
  );

  app.delete(
    "/v1/policies/:id",
    {
      config: admin,
      schema: {
        tags,
        summary: "Delete a policy",
        params: PolicyParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await policies.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/v1/policies/scan",
    {
      config: admin,
      schema: {
        tags,
        summary: "Evaluate every known namespace and environment now (the scheduled scan, on demand)",
        response: {
          200: z.object({ targets: z.number(), failed: z.number(), violating: z.number() }),
          ...errors,
        },
      },
    },
    async () => policies.scan(),
  );

  app.post(
    "/v1/policies/check",
    {
      config: {
        access: {
          role: "viewer",
          scope: (req) => {
            const b = req.body as { namespace?: string; environment?: string } | undefined;
            return { namespace: b?.namespace, environment: b?.environment };
          },
        },
      },
      schema: {
        tags,
        summary: "The violations a resolved document would have (nothing is stored)",
        body: z.object({
          namespace: NamespaceName,
          environment: EnvironmentName,
          document: z.record(z.string(), z.unknown()),
        }),
        response: {
          200: z.object({
            passed: z.boolean(),
            policiesEvaluated: z.number(),
            violations: z.array(PolicyViolation),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { evaluated, violations } = await policies.check(
        request.body.namespace,
        request.body.environment,
        request.body.document,
      );
      return { passed: violations.length === 0, policiesEvaluated: evaluated, violations };
    },
  );
}
