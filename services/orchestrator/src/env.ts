import { baseEnvSchema, loadEnv } from "@nexus/kit";
import { z } from "zod";

const HttpUrl = z.url({ protocol: /^https?$/ });

export const orchestratorEnvSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4500),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("orchestrator"),
  /** The config-registry's HTTP API (layer revisions, rollbacks, schemas). */
  REGISTRY_URL: z.url().default("http://127.0.0.1:4100"),
  /** The drift-detector's HTTP API (instances, findings). */
  DRIFT_DETECTOR_URL: z.url().default("http://127.0.0.1:4200"),
  /**
   * The monitor's HTTP API: `health-gate` fails on its alerts about the target namespace and
   * environment. Unset: health-gate judges by the drift-detector's findings instead.
   */
  MONITOR_URL: z.url().optional(),
  /**
   * The backup service's HTTP API: `backup-drill` jobs ask it to verify its newest backup (with
   * ORCHESTRATOR_BACKUP_TOKEN). Unset: drills fail saying so.
   */
  BACKUP_URL: z.url().optional(),
  /**
   * The API token `backup-drill` jobs use at the backup service, whose routes are admin-only: an
   * admin token (`scripts/orchestrator-token.sh` makes one), kept apart from ORCHESTRATOR_API_TOKEN
   * so the registry, drift-detector and monitor are only ever asked with the viewer token. Unset:
   * ORCHESTRATOR_API_TOKEN is used (and drills are refused unless it is an admin).
   */
  ORCHESTRATOR_BACKUP_TOKEN: z.string().min(1).optional(),
  /**
   * The API token the orchestrator reads layer revisions, schemas, instances and findings with
   * (a registry token: viewer of the namespaces it promotes; writes go over NATS). Unset: the
   * service starts, /readyz says degraded, and steps that need it wait.
   */
  ORCHESTRATOR_API_TOKEN: z.string().min(1).optional(),
  /** Key the `http-hook` step signs bodies with (HMAC-SHA256, `x-nexus-signature`). */
  ORCHESTRATOR_HOOK_KEY: z.string().min(16),
  /** How long a claimed run stays this instance's without a renewal; a dead instance's runs resume after it. */
  RUN_LEASE_SECONDS: z.coerce.number().int().min(2).max(3_600).default(30),
  /** How often an idle executor looks for runs to go on with. */
  RUN_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(1_000),
  /** How often wait-applied and health-gate steps look at the instances again. */
  WATCH_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(1_000),
  /**
   * Programs `run` steps may start (comma-separated names or paths, e.g. `./scripts/smoke.sh,curl`):
   * they run on this host, so nothing runs unless listed. Empty: pipelines with `run` steps are refused.
   */
  RUN_ALLOWED_COMMANDS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  /**
   * URL prefixes `http-hook` steps may call (comma-separated, e.g. `https://ci.example.com/hooks/`):
   * the orchestrator sits inside the network, so an editor must not point it anywhere. Empty:
   * pipelines with `http-hook` steps are refused.
   */
  HOOK_ALLOWED_URLS: z
    .string()
    .default("")
    .transform((s, ctx) => {
      const urls = s
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean);
      for (const u of urls)
        if (!HttpUrl.safeParse(u).success)
          ctx.addIssue({ code: "custom", message: `"${u}" is not an http(s) URL` });
      return urls;
    }),
  /** PATH of the commands `run` steps start (they get nothing else from this process's environment). */
  RUN_COMMAND_PATH: z.string().min(1).default("/usr/local/bin:/usr/bin:/bin"),
  /** Time an HTTP call to the registry or the drift-detector, or a NATS command, may take. */
  DEPENDENCY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
});
export type OrchestratorEnv = z.infer<typeof orchestratorEnvSchema>;

export const loadOrchestratorEnv = (): Readonly<OrchestratorEnv> => loadEnv(orchestratorEnvSchema);
