import { ApiErrorBody } from "@nexus/contracts";
import type { App, Pool } from "@nexus/kit";
import { z } from "zod";
import { mayView, pipelineScope } from "../http/access.js";
import type { PipelineStore } from "../pipelines/pipeline-store.js";
import { nextFireTime } from "./schedule-fns.js";
import type { ScheduleStore } from "./schedule-store.js";
import { schedulesOf } from "./scheduler.js";

const ScheduleDto = z.object({
  pipeline: z.string(),
  namespace: z.string(),
  source: z.string(),
  target: z.string(),
  cron: z.string(),
  timezone: z.string(),
  misfireGraceSeconds: z.number(),
  nextFireAt: z.string().nullable(),
  lastFire: z
    .object({ at: z.string(), runId: z.string().nullable(), note: z.string() })
    .nullable()
    .describe("The newest time the pipeline fired, and the run it started (or why none)"),
});

export function registerScheduleRoutes(
  app: App,
  deps: { pool: Pool; pipelines: PipelineStore; schedules: ScheduleStore },
): void {
  app.get(
    "/v1/schedules",
    {
      config: { access: { authenticated: true } },
      schema: {
        tags: ["schedules"],
        summary: "Scheduled pipelines this token may see: pattern, next time, last fire",
        response: { 200: z.object({ items: z.array(ScheduleDto) }), 401: ApiErrorBody },
      },
    },
    async (request) => {
      const [pipelines, latest] = await Promise.all([
        deps.pipelines.list(deps.pool),
        deps.schedules.latest(deps.pool),
      ]);
      const now = new Date();
      return {
        items: pipelines
          .filter((p) => mayView(request, pipelineScope(p)))
          .flatMap((p) =>
            schedulesOf(p).map((t) => ({
              pipeline: p.name,
              namespace: p.namespace,
              source: p.source,
              target: p.target,
              cron: t.cron,
              timezone: t.timezone,
              misfireGraceSeconds: t.misfireGraceSeconds,
              nextFireAt: nextFireTime(t, now)?.toISOString() ?? null,
              lastFire: latest.get(p.name) ?? null,
            })),
          ),
      };
    },
  );
}
