import { allowAddressList, baseEnvSchema, loadEnv, parseSealingKeys } from "@nexus/kit";
import { Cron } from "croner";
import { z } from "zod";

const booleanString = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => ["true", "1", "yes"].includes(v));
const optionalUrl = z.preprocess(
  (v) => (v === "" ? undefined : v),
  z.url({ protocol: /^https?$/ }).optional(),
);

export const notifierEnvSchema = baseEnvSchema
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4300),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default("notifier"),
    /** Bearer token Alertmanager sends to POST /v1/intake/alertmanager; unset turns the intake off. */
    ALERTMANAGER_INTAKE_TOKEN: z.preprocess((v) => (v === "" ? undefined : v), z.string().min(16).optional()),
    /** Where messages link to (the dashboard) and the registry's public API base. */
    DASHBOARD_URL: optionalUrl,
    REGISTRY_PUBLIC_URL: optionalUrl,
    /** Receivers may use plain http:// (tests, an internal relay); otherwise https only. */
    OUTBOUND_ALLOW_HTTP: booleanString.default(false),
    /** Addresses/CIDRs receivers may reach although loopback/private/link-local, e.g. `127.0.0.1/32`. */
    OUTBOUND_ALLOW_ADDRESSES: allowAddressList(),
    OUTBOUND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    OUTBOUND_MAX_RESPONSE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(64 * 1024),
    DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
    DELIVERY_BACKOFF_BASE_MS: z.coerce.number().int().min(10).default(2_000),
    DELIVERY_BACKOFF_MAX_MS: z.coerce
      .number()
      .int()
      .min(10)
      .default(10 * 60_000),
    /** A claimed delivery not marked within this time is sent again (its sender crashed). */
    DELIVERY_LEASE_MS: z.coerce.number().int().min(500).default(60_000),
    SLACK_INTERVAL_MS: z.coerce.number().int().min(0).default(1_000),
    /** Safety-net poll of the group and delivery queues (work from other instances). */
    WORKER_POLL_MS: z.coerce.number().int().min(10).default(5_000),
    /** Consume bus events (alert.*, drift.*, policy.violated, config.changed). */
    CONSUME_EVENTS: booleanString.default(true),
    CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    /**
     * Master key sealing receiver secrets (AES-256-GCM): `kid:base64-of-32-bytes` or bare base64
     * (its id derived from the key). NOTIFIER_SECRETS_PREVIOUS_KEYS: earlier keys, `kid:base64`
     * comma-separated, still able to open values sealed with them.
     */
    NOTIFIER_SECRETS_KEY: z.string().min(1, "is required (generate one with: openssl rand -base64 32)"),
    NOTIFIER_SECRETS_PREVIOUS_KEYS: z.string().default(""),
    /** Alerts (not firing), their history and delivered deliveries older than this many days are deleted; 0 keeps them. */
    RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
    /** Dead letters are kept longer (re-sendable until then); 0 keeps them. */
    DEAD_LETTER_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
    /** When the retention sweep runs (croner pattern; one instance at a time, under a lease). */
    RETENTION_CRON: z.string().min(1).default("23 * * * *"),
    RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(1_000),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
  })
  .superRefine((env, ctx) => {
    if (env.DEAD_LETTER_RETENTION_DAYS !== 0 && env.DEAD_LETTER_RETENTION_DAYS < env.RETENTION_DAYS)
      ctx.addIssue({
        code: "custom",
        path: ["DEAD_LETTER_RETENTION_DAYS"],
        message: "must be at least RETENTION_DAYS (dead letters are kept longer), or 0 to keep them",
      });
    try {
      new Cron(env.RETENTION_CRON, { paused: true }).stop();
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        path: ["RETENTION_CRON"],
        message: `is not a cron pattern: ${(err as Error).message}`,
      });
    }
    const parsed = parseSealingKeys(env.NOTIFIER_SECRETS_KEY, env.NOTIFIER_SECRETS_PREVIOUS_KEYS);
    for (const message of parsed.problems)
      ctx.addIssue({
        code: "custom",
        path: [message.startsWith("previous") ? "NOTIFIER_SECRETS_PREVIOUS_KEYS" : "NOTIFIER_SECRETS_KEY"],
        message,
      });
  });
export type NotifierEnv = z.infer<typeof notifierEnvSchema>;

export const loadNotifierEnv = (): Readonly<NotifierEnv> => loadEnv(notifierEnvSchema);
