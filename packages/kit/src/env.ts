import { isIP } from "node:net";
import { z } from "zod";
import { parseAllowList } from "./net/address-policy.js";

/**
 * Parse the environment once against a service's schema. On failure print every bad variable
 * (name and reason, never its value: it may be a secret) and exit, so a misconfigured service
 * never half-starts.
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  source: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`);
    process.stderr.write(
      `Configuration error: these environment variables are missing or invalid:\n${lines.join("\n")}\n`,
    );
    process.exit(78); // EX_CONFIG
  }
  return Object.freeze(parsed.data);
}

/** Like loadEnv but throws instead of exiting (for tests and composition in-process). */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  source: Record<string, string | undefined>,
): Readonly<z.infer<S>> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`invalid environment: ${lines.join("; ")}`);
  }
  return Object.freeze(parsed.data);
}

const booleanString = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const emptyAsUndefined = (v: unknown) => (v === "" ? undefined : v);
const httpUrl = z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" });

const PROXY_KEYWORDS = new Set(["loopback", "linklocal", "uniquelocal"]);

/** An address, a CIDR range or one of proxy-addr's names for ranges (what fastify's trustProxy takes). */
function isProxyEntry(entry: string): boolean {
  if (PROXY_KEYWORDS.has(entry)) return true;
  const [address = "", bits, ...rest] = entry.split("/");
  const family = isIP(address);
  if (!family || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Variables every Nexus service reads. Services `.extend()` this with their own. */
/** A comma-separated setting as its trimmed, non-empty entries ("" or unset: none). */
export const commaList = () =>
  z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    );

/** Loopback/private/link-local addresses or CIDRs an outbound connection may still reach. */
export const allowAddressList = () =>
  commaList().refine((entries) => {
    try {
      parseAllowList(entries);
      return true;
    } catch {
      return false;
    }
  }, "must be comma-separated IP addresses or CIDR ranges");

export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535),
  DATABASE_URL: z.url().default("postgres://postgres@127.0.0.1:5432/nexus"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  /** Instead of a user/password: a `.creds` file (JWT + seed; re-read at each reconnect) or an nkey user seed. */
  NATS_CREDS_FILE: z.string().min(1).optional(),
  NATS_NKEY_SEED: z
    .string()
    .regex(/^SU[A-Z2-7]{56}$/, "must be an nkey user seed (SU followed by 56 characters)")
    .optional(),
  /** First token of every subject and stream name; tests set their own to stay isolated. */
  NATS_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/)
    .default("nexus"),
  /** Copies of each JetStream stream: 1 on a single server, 3 on a three-node cluster (R3). */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  REDIS_URL: z.string().min(1).default("redis://127.0.0.1:6379"),
  REDIS_KEY_PREFIX: z.string().default("nexus:"),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  OUTBOX_RELAY_ENABLED: booleanString.default(true),
  /** Cluster key for API token digests (base64, at least 32 bytes). Without it, API tokens are refused. */
  AUTH_TOKEN_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length >= 32, "must be at least 32 bytes, base64-encoded")
    .transform((v) => Buffer.from(v, "base64"))
    .optional(),
  /** OIDC bearer tokens: all three of URL, issuer and audience, or none. */
  OIDC_JWKS_URL: z.url().optional(),
  OIDC_ISSUER: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  /** Claim holding grants such as `editor:payments-*:staging`. */
  OIDC_ROLES_CLAIM: z.string().min(1).default("nexus_roles"),
  /** Invalid credentials allowed per client address per window before it gets 429. */
  AUTH_MAX_FAILURES: z.coerce.number().int().min(1).default(20),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(300),
  /**
   * Reverse proxies whose X-Forwarded-For gives the client address (comma-separated addresses,
   * CIDR ranges, or loopback / linklocal / uniquelocal). Empty: the connecting peer is the client.
   * The failed-login limiter and the audit log count and record that address.
   */
  TRUST_PROXY: commaList().refine((entries) => entries.every(isProxyEntry), {
    message:
      "must be comma-separated IP addresses, CIDR ranges (10.0.0.0/8), loopback, linklocal or uniquelocal",
  }),
  /**
   * How long a consumer that takes events in batches waits after the first for more (at most its
   * batch size) before handling them: fewer, larger batches (one transaction and one round of acks
   * each) for that much latency. 0 handles what has arrived at once.
   */
  EVENT_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(100),
  /** Requests per minute one token may make to one service (counted in Redis); 0 turns it off. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  /** Seconds between service heartbeats (`nexus.service.heartbeat.*`, read by the monitor); 0 turns them off. */
  HEARTBEAT_INTERVAL_SECONDS: z.coerce
    .number()
    .refine((v) => v === 0 || (v >= 0.05 && v <= 3_600), "must be 0 (off) or between 0.05 and 3600")
    .default(5),
  /**
   * OpenTelemetry (standard variables; tracing is off unless one of them asks for it, see
   * tracing/tracing.ts). Empty values count as unset, as compose files pass them.
   */
  OTEL_SDK_DISABLED: z.preprocess(emptyAsUndefined, booleanString.default(false)),
  OTEL_TRACES_EXPORTER: z.preprocess(emptyAsUndefined, z.enum(["otlp", "console", "none"]).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.preprocess(
    emptyAsUndefined,
    z
      .enum(["http/protobuf", "http/json"], {
        message: "must be http/protobuf or http/json (OTLP over gRPC is not supported)",
      })
      .default("http/protobuf"),
  ),
  OTEL_SERVICE_NAME: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** Milliseconds between exports of batched spans (the standard batch processor variable). */
  OTEL_BSP_SCHEDULE_DELAY: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(600_000).default(5_000),
  ),
  /** This instance's name in heartbeats; default `<hostname>-<pid>`. */
  INSTANCE_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, "must be lowercase letters, digits, '-' or '_'")
    .optional(),
});
export type BaseEnv = z.infer<typeof baseEnvSchema>;
