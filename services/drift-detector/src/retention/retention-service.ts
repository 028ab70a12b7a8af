import type { Logger, Pool } from "@nexus/kit";
import type { RetentionStore } from "./retention-store.js";

export interface RetentionReport {
  findings: number;
  reports: number;
}

/**
 * Keeps the detector's history bounded: resolved findings (with their remediations) and
 * applied/rejected reports older than `maxAgeMs` go. Open findings, the inventory and the hashes
 * of revisions are never touched here. Run by the duties' lease holder on a schedule.
 */
export function createRetentionService(deps: {
  pool: Pool;
  store: RetentionStore;
  logger: Pick<Logger, "info">;
  /** 0 keeps everything. */
  maxAgeMs: number;
  batchSize?: number;
  now?: () => Date;
}) {
  const batchSize = deps.batchSize ?? 5_000;

  async function drain(step: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await step(batchSize);
      total += n;
      if (n < batchSize) return total;
    }
  }

  return {
    async sweep(): Promise<RetentionReport> {
      if (deps.maxAgeMs <= 0) return { findings: 0, reports: 0 };
      const before = new Date((deps.now?.() ?? new Date()).getTime() - deps.maxAgeMs);
      const findings = await drain((n) => deps.store.resolvedFindingsBefore(deps.pool, before, n));
      const reports = await drain((n) => deps.store.reportsBefore(deps.pool, before, n));
      if (findings + reports > 0)
        deps.logger.info(
          { findings, reports, before: before.toISOString() },
          `retention removed ${findings} resolved findings and ${reports} instance reports older than ${before.toISOString()}`,
        );
      return { findings, reports };
    },
  };
}
export type RetentionService = ReturnType<typeof createRetentionService>;
