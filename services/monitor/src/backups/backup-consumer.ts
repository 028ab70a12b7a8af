import { BACKUP_FAILED, BACKUP_VERIFIED } from "@nexus/contracts";
import { type Bus, type Consumption, type Pool, processOnce } from "@nexus/kit";
import type { BackupStatusStore } from "./backup-store.js";

export const BACKUPS_DURABLE = "monitor-backups";

/** The backup service's outcomes (the `backup_failed` and `backup_overdue` rules' input), once each. */
export function consumeBackupOutcomes(deps: {
  bus: Bus;
  pool: Pool;
  store: BackupStatusStore;
}): Promise<Consumption> {
  return deps.bus.consume(
    [BACKUP_VERIFIED, BACKUP_FAILED],
    { durable: BACKUPS_DURABLE, concurrency: 1 },
    async (event) => {
      await processOnce(deps.pool, BACKUPS_DURABLE, event.id, (c) =>
        event.type === BACKUP_FAILED ? deps.store.failed(c, event.data) : deps.store.verified(c, event.data),
      );
    },
  );
}
