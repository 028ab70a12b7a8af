import type { BackupKind } from "@nexus/contracts";

/** The newest outcome of one kind of backup, as the backup service announced it. */
export interface BackupStatus {
  kind: BackupKind;
  /** When the monitor started watching: the overdue clock for a kind never verified. */
  watchedSince: Date;
  verifiedAt: Date | null;
  verifiedBackupId: string | null;
  failedAt: Date | null;
  failedBackupId: string | null;
  failedStage: string | null;
  failureReason: string | null;
}
