import type { RolloutDetailDto, RolloutSummaryDto } from "@nexus/contracts";
import { type AccessScope, NotFoundError, type Pool } from "@nexus/kit";
import type { DriftClient } from "../clients/drift-client.js";
import { newestVisible } from "../http/access.js";
import type { RolloutStore } from "./rollout-store.js";
import { membersOf, rolloutDetail, toRolloutSummary } from "./rollout-view-fns.js";

type Authorize = (scope: AccessScope) => void;

/** Reading wave rollouts: the rows from Postgres, each instance's state from the drift-detector. */
export function createRolloutService(deps: { pool: Pool; rollouts: RolloutStore; drift: DriftClient }) {
  const { pool, rollouts, drift } = deps;
  return {
    /** The newest `limit` rollouts the caller may see (`visible` judges the caller's grants). */
    async list(
      q: { namespace?: string | undefined; environment?: string | undefined; limit: number },
      visible: (scope: AccessScope) => boolean,
    ) {
      const rows = await newestVisible(
        (before, size) => rollouts.list(pool, { ...q, limit: size }, before),
        (r) => ({ createdAt: r.createdAt, id: r.runId }),
        (r) => visible({ namespace: r.namespace, environment: r.environment }),
        q.limit,
      );
      return rows.map(toRolloutSummary) satisfies RolloutSummaryDto[];
    },

    async get(id: string, authorize: Authorize): Promise<RolloutDetailDto> {
      const [row] = await rollouts.list(pool, { id, limit: 1 });
      if (!row) throw new NotFoundError("rollout_not_found", `no rollout ${id}`, { field: "id" });
      authorize({ namespace: row.namespace, environment: row.environment });
      try {
        const [instances, labels] = await Promise.all([
          drift.instances(row.namespace, row.environment),
          rollouts.memberLabels(pool, row.runId),
        ]);
        return rolloutDetail(row, { members: membersOf(row, instances, labels), error: null });
      } catch (err) {
        return rolloutDetail(row, {
          members: [],
          error: `the drift-detector did not answer: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    },
  };
}
export type RolloutService = ReturnType<typeof createRolloutService>;
