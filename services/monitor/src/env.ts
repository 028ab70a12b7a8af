import { baseEnvSchema, commaList, loadEnv } from "@nexus/kit";
import { z } from "zod";

const list = commaList();
const optionalUrl = z.preprocess(
  (v) => (v === "" ? undefined : v),
  z.url({ protocol: /^https?$/ }).optional(),
);

export const monitorEnvSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4400),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("monitor"),
  /** Services whose absence makes `/v1/health` unhealthy even before any heartbeat of theirs arrived. */
  EXPECTED_SERVICES: list.default([
    "config-registry",
    "drift-detector",
    "notifier",
    "monitor",
    "orchestrator",
    "backup",
  ]),
  /** A heartbeat missing for this many of its intervals marks the instance missing. */
  MISSED_HEARTBEATS: z.coerce.number().int().min(2).max(100).default(3),
  /**
   * How often the lease holder evaluates the alert rules (and stores fresh heartbeats). Every pass
   * reads the rules and open alerts whether anything changed or not; alert durations are minutes.
   */
  EVALUATE_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  /** Health history: one sample per instance per bucket; older than the retention is deleted. */
  HEALTH_BUCKET_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  HEALTH_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(14),
  /** Instances silent this long are forgotten (their row deleted; alerts about them resolve). */
  INSTANCE_FORGET_SECONDS: z.coerce.number().int().min(60).default(86_400),
  /** The drift-detector's API, called with the dashboard user's own token (convergence, findings). */
  DRIFT_DETECTOR_URL: optionalUrl,
  /** The notifier's API, called with the dashboard user's token (recent notifications, silences). */
  NOTIFIER_URL: optionalUrl,
  /** How often the registry is asked which API tokens expire soon (the token_expiring rule). */
  TOKEN_REFRESH_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** How often the TLS endpoints of `certificate_expiring` rules are read again. */
  CERTIFICATE_REFRESH_SECONDS: z.coerce.number().int().min(10).max(86_400).default(3_600),
  /** The registry's API, called with the dashboard user's own token (revisions, diffs, rollback). */
  REGISTRY_URL: optionalUrl,
  /** The orchestrator's API, called with the dashboard user's own token (runs, approve, reject). */
  ORCHESTRATOR_URL: optionalUrl,
  /** Links in alerts and the dashboard's own address, printed by up.sh. */
  DASHBOARD_URL: optionalUrl,
});
export type MonitorEnv = z.infer<typeof monitorEnvSchema>;

export const loadMonitorEnv = (): Readonly<MonitorEnv> => loadEnv(monitorEnvSchema);
