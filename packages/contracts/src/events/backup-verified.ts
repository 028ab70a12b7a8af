import { z } from "zod";

export const BACKUP_VERIFIED = "nexus.backup.verified" as const;

/** Backup ids name the time the snapshot was taken and its kind, e.g. `bk-20261206T210501Z-full-3f9a2c`. */
export const BackupId = z
  .string()
  .regex(
    /^bk-\d{8}T\d{6}Z-(full|incremental)-[0-9a-f]{6}$/,
    "must be a backup id like bk-20261206T210501Z-full-3f9a2c",
  );
export type BackupId = z.infer<typeof BackupId>;

export const BackupKind = z.enum(["full", "incremental"]);
export type BackupKind = z.infer<typeof BackupKind>;

/**
 * A backup was restored into a scratch schema and every table matched what the source held at
 * the backup's snapshot: the same row count and the same ordered content hash.
 */
export const BackupVerified = z.object({
  schemaVersion: z.literal(1),
  backupId: BackupId,
  kind: BackupKind,
  snapshotAt: z.iso.datetime({ offset: true }).describe("The database time of the snapshot the backup holds"),
  verifiedAt: z.iso.datetime({ offset: true }),
  tables: z.number().int().min(0),
  rows: z.number().int().min(0),
  bytes: z
    .number()
    .int()
    .min(0)
    .describe("Size of the stored bundle (compressed, encrypted when a key is set)"),
  durationMs: z.number().int().min(0).describe("How long the verification restore took"),
});
export type BackupVerified = z.infer<typeof BackupVerified>;

export const backupVerifiedSubject = (d: Pick<BackupVerified, "kind">) => `${BACKUP_VERIFIED}.${d.kind}`;
