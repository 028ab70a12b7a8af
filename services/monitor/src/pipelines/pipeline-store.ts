import type { PipelineFailed, PipelineSucceeded } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { PipelineStatus } from "./pipeline-types.js";

/** Newest wins: a redelivered or late older outcome never replaces a newer one. */
export function createPipelineStatusStore() {
  const record = (
    q: Queryable,
    e: PipelineFailed | PipelineSucceeded,
    at: string,
    failure: { step: string | null; reason: string; rolledBack: boolean } | null,
  ) =>
    q.query(
      `INSERT INTO pipeline_status
         (pipeline, namespace, environment, run_id, outcome, finished_at, failed_step, failure_reason, rolled_back)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (pipeline) DO UPDATE SET
         namespace = EXCLUDED.namespace, environment = EXCLUDED.environment, run_id = EXCLUDED.run_id,
         outcome = EXCLUDED.outcome, finished_at = EXCLUDED.finished_at, failed_step = EXCLUDED.failed_step,
         failure_reason = EXCLUDED.failure_reason, rolled_back = EXCLUDED.rolled_back
       WHERE pipeline_status.finished_at < EXCLUDED.finished_at`,
      [
        e.pipeline,
        e.namespace,
        e.environment,
        e.runId,
        failure ? "failed" : "succeeded",
        at,
        failure?.step ?? null,
        failure?.reason ?? null,
        failure?.rolledBack ?? false,
      ],
    );
  return {
    async all(q: Queryable): Promise<PipelineStatus[]> {
      const res = await q.query<{
        pipeline: string;
        namespace: string;
        environment: string;
        run_id: string;
        outcome: PipelineStatus["outcome"];
        finished_at: Date;
        failed_step: string | null;
        failure_reason: string | null;
        rolled_back: boolean;
      }>("SELECT * FROM pipeline_status ORDER BY pipeline");
      return res.rows.map((r) => ({
        pipeline: r.pipeline,
        namespace: r.namespace,
        environment: r.environment,
        runId: r.run_id,
        outcome: r.outcome,
        finishedAt: r.finished_at,
        failedStep: r.failed_step,
        failureReason: r.failure_reason,
        rolledBack: r.rolled_back,
      }));
    },
    async failed(q: Queryable, e: PipelineFailed, at: string) {
      await record(q, e, at, { step: e.step?.name ?? null, reason: e.reason, rolledBack: e.rolledBack });
    },
    async succeeded(q: Queryable, e: PipelineSucceeded, at: string) {
      await record(q, e, at, null);
    },
  };
}
export type PipelineStatusStore = ReturnType<typeof createPipelineStatusStore>;
