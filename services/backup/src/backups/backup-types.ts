import { BackupId, BackupKind } from "@nexus/contracts";
import { z } from "zod";

const Time = z.iso.datetime({ offset: true });

export const BackupProgress = z.object({
  tablesDone: z.number().int().optional(),
  tablesTotal: z.number().int().optional(),
  rows: z.number().int().optional(),
  bytes: z.number().int().optional(),
  current: z.string().optional().describe("The table being copied or restored"),
  stage: z.string().optional().describe("What the run is doing, in words"),
});

export const BackupDto = z.object({
  id: BackupId,
  kind: BackupKind,
  parentId: BackupId.nullable().describe("An incremental backup's parent: the previous backup of its chain"),
  status: z.enum(["running", "completed", "failed", "pruned"]),
  trigger: z.enum(["api", "schedule"]),
  requestedBy: z.string(),
  storage: z.string().describe("Where the bundle is, e.g. local:/var/lib/nexus/backups"),
  startedAt: Time,
  finishedAt: Time.nullable(),
  snapshotAt: Time.nullable().describe("The database time of the snapshot the backup holds"),
  tables: z.number().int().nullable(),
  rows: z.number().int().nullable(),
  bytes: z.number().int().nullable(),
  manifestSha256: z.string().nullable(),
  encryptionKeyId: z.string().nullable(),
  progress: BackupProgress,
  error: z.string().nullable(),
  verification: z.enum(["pending", "running", "verified", "failed"]),
  verifiedAt: Time.nullable(),
  verificationError: z.string().nullable(),
});
export type BackupDto = z.infer<typeof BackupDto>;

export const VerificationDto = z.object({
  id: z.number().int(),
  backupId: BackupId,
  status: z.enum(["running", "verified", "failed"]),
  startedAt: Time,
  finishedAt: Time.nullable(),
  durationMs: z.number().int().nullable(),
  error: z.string().nullable(),
  tables: z.array(
    z.object({
      table: z.string(),
      rows: z.number().int(),
      expectedRows: z.number().int(),
      matches: z.boolean(),
    }),
  ),
});
export type VerificationDto = z.infer<typeof VerificationDto>;

export const RestoreDto = z.object({
  id: z.uuid(),
  backupId: BackupId,
  scope: z.literal("system"),
  status: z.enum(["running", "completed", "failed"]),
  requestedBy: z.string(),
  startedAt: Time,
  finishedAt: Time.nullable(),
  progress: BackupProgress,
  tables: z.number().int().nullable(),
  rows: z.number().int().nullable(),
  error: z.string().nullable(),
});
export type RestoreDto = z.infer<typeof RestoreDto>;

export const RestorePlanDto = z.object({
  backupId: BackupId,
  snapshotAt: Time,
  tables: z.array(
    z.object({ table: z.string(), rowsNow: z.number().int().nullable(), rowsInBackup: z.number().int() }),
  ),
  problems: z.array(z.string()).describe("Why the restore cannot run; empty when it can"),
});

export const RunBackupBody = z.object({
  kind: BackupKind.default("full").describe(
    "full: every row; incremental: the registry's revisions added since the newest backup (other tables in full)",
  ),
});

export const RestoreBody = z.object({
  scope: z.literal("system").default("system").describe("The whole system: every backed-up service schema"),
  dryRun: z
    .boolean()
    .default(true)
    .describe("Show what would change without changing anything (the default)"),
});
