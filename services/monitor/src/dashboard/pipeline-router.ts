import { ApiErrorBody } from "@nexus/contracts";
import { type App, canAccess } from "@nexus/kit";
import { z } from "zod";
import { tokenOf } from "../http/request-meta.js";
import type { RelayClient } from "./relay-client.js";

/** The statuses the pipelines view lists: runs still going, or waiting on a person. */
const IN_PROGRESS = ["running", "awaiting-approval", "rolling-back"] as const;

/** The orchestrator's run, as much of it as the view shows; the rest passes through. */
const RunDto = z
  .object({
    id: z.string(),
    pipeline: z.string(),
    namespace: z.string(),
    source: z.string(),
    target: z.string(),
    status: z.string(),
    startedBy: z.string(),
    currentStep: z.number().int(),
    createdAt: z.string(),
  })
  .loose();
type RunDto = z.infer<typeof RunDto>;
const RunListDto = z.object({
  items: z.array(
    RunDto.extend({
      mayDecide: z
        .boolean()
        .describe(
          "Whether the caller holds the approver role on the target (the orchestrator decides again)",
        ),
    }),
  ),
});
const RunParams = z.object({ id: z.uuid() });
const DecisionBody = z.strictObject({ comment: z.string().max(1000).default("") }).default({ comment: "" });

const errors = {
  400: ApiErrorBody,
  401: ApiErrorBody,
  403: ApiErrorBody,
  404: ApiErrorBody,
  409: ApiErrorBody,
  422: ApiErrorBody,
  503: ApiErrorBody,
};
const tags = ["dashboard"];

/**
 * The dashboard's pipelines view: runs in progress and the approve/reject decisions, asked of the
 * orchestrator with the user's own token (its access rules — approver on the target, never the
 * run's author — apply unchanged, and its refusals come back as they are).
 */
export function registerPipelineRoutes(app: App, deps: { orchestrator: RelayClient }): void {
  app.get(
    "/v1/dashboard/runs",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags,
        summary: "Runs running, awaiting approval or rolling back, newest first, as the caller may see them",
        response: { 200: RunListDto, ...errors },
      },
    },
    async (request) => {
      const token = tokenOf(request);
      const answers = await Promise.all(
        IN_PROGRESS.map((status) =>
          deps.orchestrator.call("GET", `/v1/runs?status=${status}&limit=200`, token),
        ),
      );
      const runs = answers
        .flatMap((a) => (a.body as { items: RunDto[] }).items)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return {
        items: runs.map((r) => ({
          ...r,
          mayDecide:
            r.status === "awaiting-approval" &&
            canAccess(request.principal, "approver", { namespace: r.namespace, environment: r.target }),
        })),
      };
    },
  );

  for (const decision of ["approve", "reject"] as const) {
    app.post(
      `/v1/dashboard/runs/:id/${decision}`,
      {
        config: { access: { authenticated: true } },
        schema: {
          tags,
          summary: `${decision === "approve" ? "Approve" : "Reject"} the step a run waits on, through the orchestrator with the caller's token`,
          params: RunParams,
          body: DecisionBody,
          response: { 200: RunDto, ...errors },
        },
      },
      async (request) => {
        const res = await deps.orchestrator.call(
          "POST",
          `/v1/runs/${encodeURIComponent(request.params.id)}/${decision}`,
          tokenOf(request),
          { comment: request.body?.comment ?? "" },
        );
        return res.body as RunDto;
      },
    );
  }
}
