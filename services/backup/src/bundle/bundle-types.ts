import { BackupId, BackupKind } from "@nexus/contracts";
import { z } from "zod";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, "must be a lower-case SQL identifier");

export const BUNDLE_FORMAT = "nexus-backup/1" as const;
export const MANIFEST_NAME = "manifest.json";

export const TableColumn = z.object({ name: z.string().min(1), type: z.string().min(1) });
export type TableColumn = z.infer<typeof TableColumn>;

/** One table of a service schema: how to rebuild it and what it held at the snapshot. */
export const TablePart = z.object({
  schema: Identifier,
  table: z.string().min(1),
  columns: z.array(TableColumn).min(1),
  /** The columns the rows are ordered by: the primary key, else every column as text. */
  orderBy: z.array(z.string().min(1)).min(1),
  orderByText: z.boolean(),
  /** Tables this one references (foreign keys), as `schema.table`: restored before it. */
  references: z.array(z.string()),
  rows: z.number().int().min(0),
  /** sha256 of the table's rows as COPY text in `orderBy` order: the ordered content hash. */
  contentSha256: Sha256,
  /** The stored object: name inside the bundle, size and sha256 of the stored bytes. */
  part: z.object({ name: z.string().min(1), bytes: z.number().int().min(0), sha256: Sha256 }),
  /**
   * In an incremental backup, a history table's part holds only rows added since the parent:
   * `rows` and `contentSha256` still describe the whole table at the snapshot. A restore applies
   * the chain: the full backup's part, then for each incremental: delete the rows of `resets`
   * (groups deleted or re-created since the parent), add its part.
   */
  delta: z.object({ rows: z.number().int().min(0), resets: z.array(z.string()) }).optional(),
});
export type TablePart = z.infer<typeof TablePart>;

export const SchemaState = z.object({
  name: Identifier,
  /** Migrations applied (kit's, then the service's), in order: a restore needs the same. */
  migrations: z.array(z.string()),
  /** Sequence positions at the snapshot; null: never used (a restore restarts it). */
  sequences: z.array(z.object({ name: z.string().min(1), lastValue: z.string().nullable() })),
});
export type SchemaState = z.infer<typeof SchemaState>;

/** Per history table, what the snapshot held: each group's incarnation and its newest sequence number. */
export const Watermarks = z.record(
  z.string(),
  z.record(z.string(), z.object({ incarnation: z.string(), max: z.number().int() })),
);
export type Watermarks = z.infer<typeof Watermarks>;

export const Manifest = z.object({
  format: z.literal(BUNDLE_FORMAT),
  id: BackupId,
  kind: BackupKind,
  /** An incremental backup's parent (the previous backup of its chain); null for a full one. */
  parent: BackupId.nullable(),
  watermarks: Watermarks,
  createdAt: z.iso.datetime({ offset: true }),
  snapshotAt: z.iso.datetime({ offset: true }),
  compression: z.literal("gzip"),
  encryption: z.object({ algorithm: z.literal("aes-256-gcm-chunked"), keyId: z.string().min(1) }).nullable(),
  schemas: z.array(SchemaState),
  tables: z.array(TablePart),
});
export type Manifest = z.infer<typeof Manifest>;
