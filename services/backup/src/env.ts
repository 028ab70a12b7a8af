import { baseEnvSchema, loadEnv, parseSealingKeys } from "@nexus/kit";
import { Cron } from "croner";
import { z } from "zod";

const identifiers = z
  .string()
  .default("config_registry,drift_detector,notifier")
  .transform((s) =>
    s
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[a-z_][a-z0-9_]*$/, "must be schema names (a-z, 0-9, _)")).min(1));
const emptyAsUndefined = (v: unknown) => (v === "" ? undefined : v);
const booleanString = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => ["true", "1", "yes"].includes(v));

const cronProblem = (pattern: string): string | undefined => {
  try {
    new Cron(pattern, { paused: true }).stop();
    return undefined;
  } catch (err) {
    return `is not a cron pattern: ${(err as Error).message}`;
  }
};

export const backupEnvSchema = baseEnvSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4600),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default("backup"),
    /** The service schemas to back up, read in one snapshot (each service's own schema). */
    BACKUP_SCHEMAS: identifiers,
    /** Where bundles go: a local directory (default), an S3-compatible bucket, or a NATS object store. */
    BACKUP_STORAGE: z.enum(["local", "s3", "nats"]).default("local"),
    BACKUP_DIR: z.string().min(1).default(".nexus/backups"),
    BACKUP_NATS_BUCKET: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, _ and -")
      .default("nexus-backups"),
    BACKUP_NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
    BACKUP_S3_BUCKET: z.preprocess(emptyAsUndefined, z.string().min(3).optional()),
    BACKUP_S3_PREFIX: z.string().default(""),
    BACKUP_S3_REGION: z.string().min(1).default("us-east-1"),
    BACKUP_S3_ENDPOINT: z.preprocess(emptyAsUndefined, z.url().optional()),
    BACKUP_S3_FORCE_PATH_STYLE: booleanString.default(false),
    BACKUP_S3_ACCESS_KEY_ID: z.preprocess(emptyAsUndefined, z.string().optional()),
    BACKUP_S3_SECRET_ACCESS_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
    /**
     * The key bundles are encrypted with (AES-256-GCM): `kid:base64-of-32-bytes` or bare base64.
     * Its own key, never the registry's secrets master key. Unset: bundles are compressed only
     * (secret values in them are still sealed by the registry). BACKUP_PREVIOUS_KEYS: older keys,
     * `kid:base64` comma-separated, to open bundles written with them.
     */
    BACKUP_ENCRYPTION_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
    BACKUP_PREVIOUS_KEYS: z.string().default(""),
    /** When a full backup is taken (croner; one instance at a time, under a lease). */
    BACKUP_CRON: z.string().min(1).default("17 2 * * *"),
    /** When an incremental backup is taken (revisions since the newest backup); "" for never. */
    INCREMENTAL_CRON: z.string().default("*/15 * * * *"),
    /** When the newest backup is restored again as a drill; "" for only after each backup. */
    VERIFY_CRON: z.string().default("47 */6 * * *"),
    /** Run the schedules at all (off for an instance that only serves the API). */
    SCHEDULE_ENABLED: booleanString.default(true),
    /** The config registry, which writes a namespace restore's layers (POST /v1/namespaces/{ns}/restore). */
    REGISTRY_URL: z
      .url()
      .default("http://127.0.0.1:4100")
      .transform((u) => u.replace(/\/+$/, "")),
    /**
     * An admin API token of the registry for namespace restores (`nexus token create`); unset:
     * namespace restores answer 503 registry_not_configured. BACKUP_ so that scripts/up.sh hands
     * it from .nexus/credentials.env to this service alone.
     */
    BACKUP_REGISTRY_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
    REGISTRY_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
    RETENTION_KEEP_LAST: z.coerce.number().int().min(1).max(10_000).default(7),
    RETENTION_DAILY_DAYS: z.coerce.number().int().min(0).max(3_650).default(14),
    RETENTION_WEEKLY_WEEKS: z.coerce.number().int().min(0).max(520).default(8),
  })
  .superRefine((env, ctx) => {
    for (const key of ["BACKUP_CRON", "INCREMENTAL_CRON", "VERIFY_CRON"] as const) {
      if (key !== "BACKUP_CRON" && env[key] === "") continue;
      const problem = cronProblem(env[key]);
      if (problem) ctx.addIssue({ code: "custom", path: [key], message: problem });
    }
    if (env.BACKUP_STORAGE === "s3" && !env.BACKUP_S3_BUCKET)
      ctx.addIssue({
        code: "custom",
        path: ["BACKUP_S3_BUCKET"],
        message: "is required when BACKUP_STORAGE=s3",
      });
    if (env.BACKUP_SCHEMAS.includes(env.DATABASE_SCHEMA))
      ctx.addIssue({
        code: "custom",
        path: ["BACKUP_SCHEMAS"],
        message: "must not list the backup service's own schema (its catalogue describes the bundles)",
      });
    if (env.BACKUP_ENCRYPTION_KEY) {
      const parsed = parseSealingKeys(env.BACKUP_ENCRYPTION_KEY, env.BACKUP_PREVIOUS_KEYS);
      for (const message of parsed.problems)
        ctx.addIssue({
          code: "custom",
          path: [message.startsWith("previous") ? "BACKUP_PREVIOUS_KEYS" : "BACKUP_ENCRYPTION_KEY"],
          message,
        });
    } else if (env.BACKUP_PREVIOUS_KEYS)
      ctx.addIssue({
        code: "custom",
        path: ["BACKUP_ENCRYPTION_KEY"],
        message: "is required when BACKUP_PREVIOUS_KEYS is set",
      });
  });
export type BackupEnv = z.infer<typeof backupEnvSchema>;

export const loadBackupEnv = (): Readonly<BackupEnv> => loadEnv(backupEnvSchema);
