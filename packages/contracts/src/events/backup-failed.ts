import { z } from "zod";
import { BackupId, BackupKind } from "./backup-verified.js";

export const BACKUP_FAILED = "nexus.backup.failed" as const;

/**
 * A backup could not be taken, or its verification restore did not reproduce the source (a part
 * missing or corrupt, a row count or content hash that differs). `stage` says which.
 */
export const BackupFailed = z.object({
  schemaVersion: z.literal(1),
  backupId: BackupId,
  kind: BackupKind,
  stage: z.enum(["backup", "verify"]),
  failedAt: z.iso.datetime({ offset: true }),
  reason: z.string().min(1).max(2000).describe("What went wrong, in plain words"),
  table: z.string().optional().describe("The table whose part failed, when one did"),
});
export type BackupFailed = z.infer<typeof BackupFailed>;

export const backupFailedSubject = (d: Pick<BackupFailed, "kind" | "stage">) =>
  `${BACKUP_FAILED}.${d.stage}.${d.kind}`;
