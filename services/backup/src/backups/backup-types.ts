import { BackupId, BackupKind, NamespaceName } from "@nexus/contracts";
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

const RestoredLayer = z.object({
  layer: z.string(),
  fromRevision: z
    .number()
    .int()
    .nullable()
    .describe(
      "The revision of the backup's history the content is from; null: none by then, the layer is emptied",
    ),
  fromCreatedAt: Time.nullable(),
  changed: z.boolean().describe("Whether the layer differs now (an unchanged layer gets no new revision)"),
  revision: z.number().int().describe("The namespace's revision that holds the layer afterwards"),
});

export const RestoreDto = z.object({
  id: z.uuid(),
  backupId: BackupId,
  scope: z.enum(["system", "namespace"]),
  namespace: z.string().nullable().describe("A namespace restore's namespace"),
  at: Time.nullable().describe("A namespace restore's point in time (null: the backup's point)"),
  status: z.enum(["running", "completed", "failed"]),
  requestedBy: z.string(),
  startedAt: Time,
  finishedAt: Time.nullable(),
  progress: BackupProgress,
  tables: z.number().int().nullable(),
  rows: z.number().int().nullable(),
  layers: z
    .array(RestoredLayer)
    .nullable()
    .describe(
      "A completed namespace restore: each layer, the revision its content came from, and the new one",
    ),
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

export const NamespaceRestorePlanDto = z.object({
  backupId: BackupId,
  namespace: z.string(),
  at: Time.describe("The point in time the layers are restored to"),
  label: z.string().describe("The restored revisions' source is `restore:<label>`"),
  dryRun: z.literal(true),
  revisionsRead: z.number().int().describe("The namespace's revisions in the backup's history"),
  layers: z.array(
    RestoredLayer.extend({
      revision: z.number().int().describe("The namespace's revision now"),
      operations: z
        .array(z.record(z.string(), z.unknown()))
        .describe("What would change (RFC 6902, secret values as ***)"),
    }),
  ),
});
export type NamespaceRestorePlanDto = z.infer<typeof NamespaceRestorePlanDto>;

export const RunBackupBody = z.object({
  kind: BackupKind.default("full").describe(
    "full: every row; incremental: the registry's revisions added since the newest backup (other tables in full)",
  ),
});

export const RestoreBody = z
  .object({
    scope: z
      .enum(["system", "namespace"])
      .optional()
      .describe(
        "system: every backed-up service schema; namespace: one namespace's layers, through the registry (the default when `namespace` is given)",
      ),
    namespace: NamespaceName.optional().describe(
      "Restore only this namespace: its layers as they were at `at`, as new registry revisions",
    ),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .describe(
        "With `namespace`: the point in time (default: the backup's point); not before the namespace's oldest revision in the backup, not after the backup",
      ),
    dryRun: z
      .boolean()
      .default(true)
      .describe("Show what would change without changing anything (the default)"),
  })
  .superRefine((b, ctx) => {
    if (b.scope === "namespace" && !b.namespace)
      ctx.addIssue({ code: "custom", path: ["namespace"], message: "is required for a namespace restore" });
    if (b.scope === "system" && b.namespace)
      ctx.addIssue({ code: "custom", path: ["namespace"], message: "is only for scope namespace" });
    if (b.at && !b.namespace)
      ctx.addIssue({
        code: "custom",
        path: ["at"],
        message: "needs a namespace: the system is restored to the backup's point",
      });
  });
