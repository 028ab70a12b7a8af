import { ApiErrorBody, EnvironmentName, NamespaceName } from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { z } from "zod";
import { actorOf, targetScope } from "../http/access.js";
import type { RemediationStore } from "./remediation-store.js";

const Params = z.object({ ns: NamespaceName, env: EnvironmentName });
const Mode = z.enum(["off", "report", "remediate"]);
const ModeDto = z.object({ namespace: z.string(), environment: z.string(), mode: Mode });
const errors = { 400: ApiErrorBody, 403: ApiErrorBody, 404: ApiErrorBody };
const tags = ["remediation"];

export function registerRemediationRoutes(
  app: App,
  deps: { pool: Pool; remediations: RemediationStore },
): void {
  const { pool, remediations } = deps;

  app.get(
    "/v1/namespaces/:ns/environments/:env/remediation",
    {
      config: { access: { role: "viewer", scope: targetScope } },
      schema: {
        tags,
        summary: "Remediation mode and the latest remediations (instance resyncs, Git re-imports)",
        params: Params,
        response: {
          200: ModeDto.extend({
            remediations: z.array(
              z.object({
                id: z.string(),
                findingId: z.string(),
                action: z.enum(["resync", "reimport"]),
                service: z.string().nullable(),
                instanceId: z.string().nullable(),
                targetRevision: z.number().nullable(),
                gitSource: z.string().nullable(),
                branch: z.string().nullable(),
                attempt: z.number(),
                requestId: z.string(),
                requestedAt: z.string(),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { ns, env } = request.params;
      const [mode, recent] = await Promise.all([
        remediations.modeOf(pool, ns, env),
        remediations.list(pool, ns, env, 50),
      ]);
      return { namespace: ns, environment: env, mode, remediations: recent };
    },
  );

  app.put(
    "/v1/namespaces/:ns/environments/:env/remediation",
    {
      config: { access: { role: "admin", scope: targetScope } },
      schema: {
        tags,
        summary:
          "Set the mode: off (no findings), report (default) or remediate (resync stale/divergent instances, re-import the Git head of a layer with source drift; environment `base` holds the base layer's mode)",
        params: Params,
        body: z.object({ mode: Mode }),
        response: { 200: ModeDto, ...errors },
      },
    },
    async (request) => {
      const { ns, env } = request.params;
      await remediations.setMode(pool, ns, env, request.body.mode, actorOf(request));
      return { namespace: ns, environment: env, mode: request.body.mode };
    },
  );
}
