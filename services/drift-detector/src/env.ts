import { baseEnvSchema, loadEnv } from "@nexus/kit";
import { z } from "zod";

/** `production=120,staging=30` → { production: 120_000, staging: 30_000 } (milliseconds). */
const graceByEnvironment = z
  .string()
  .default("")
  .transform((s, ctx) => {
    const out: Record<string, number> = {};
    for (const part of s
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const m = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)=(\d{1,7})$/.exec(part);
      if (!m) {
        ctx.addIssue({ code: "custom", message: `"${part}" is not <environment>=<seconds>` });
        return z.NEVER;
      }
      out[m[1]!] = Number(m[2]) * 1_000;
    }
    return out;
  });

export const detectorEnvSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4200),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("drift_detector"),
  /** Grace after config.changed before an instance on an older revision is stale. */
  STALE_GRACE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** Per-environment grace, e.g. `production=300,development=10`. */
  STALE_GRACE_BY_ENVIRONMENT: graceByEnvironment,
  /** An instance not heard from for this long (and 3 heartbeat intervals) is marked gone. */
  INSTANCE_GONE_AFTER_SECONDS: z.coerce.number().int().min(1).default(120),
  /** A gone instance is deleted from the inventory this long after it went. */
  INSTANCE_DELETE_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(24 * 3600),
  /** Reports are merged in memory and written (and acked) in one statement this often. */
  INVENTORY_FLUSH_MS: z.coerce.number().int().min(10).max(10_000).default(500),
  /** An unacked inventory message (a crashed detector's batch) is redelivered after this long. */
  INVENTORY_ACK_WAIT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  /** An unacked batch of config.changed (a detector that died or lost NATS meanwhile) is redelivered after this long. */
  CHANGES_ACK_WAIT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  /**
   * How often the lease holder re-evaluates findings. Each pass is ~9 statements whether anything
   * changed or not, so this is most of an idle detector's cost (and of its database's); grace
   * periods are seconds, so a finding opening up to a second after it is due is soon enough.
   */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** A finding no longer true resolves after staying so this long; back within it, it re-opens silently. */
  FINDING_QUIET_SECONDS: z.coerce.number().min(0).default(30),
  /** Policy full scan (croner pattern, seconds optional). */
  POLICY_SCAN_CRON: z.string().min(1).default("0 */10 * * * *"),
  /** Resolved findings (with their remediations) and instance reports older than this are deleted; 0 keeps them. */
  DRIFT_RETENTION_DAYS: z.coerce.number().min(0).default(30),
  /** When the retention sweep runs (croner pattern, seconds first; the duties' lease holder runs it). */
  DRIFT_RETENTION_CRON: z.string().min(1).default("0 17 * * * *"),
  /** Resync attempts per finding before escalating, and the wait between them. */
  REMEDIATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  REMEDIATION_RETRY_SECONDS: z.coerce.number().min(1).default(60),
  /** Time a NATS command to the registry may take. */
  REGISTRY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});
export type DetectorEnv = z.infer<typeof detectorEnvSchema>;

export const loadDetectorEnv = (): Readonly<DetectorEnv> => loadEnv(detectorEnvSchema);
