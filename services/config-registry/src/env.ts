import { tmpdir } from "node:os";
import { join } from "node:path";
import { allowAddressList, baseEnvSchema, loadEnv } from "@nexus/kit";
import { z } from "zod";
import { DEFAULT_MEMORY_TTL_MS } from "./resolve/resolve-memory-cache.js";
import { checkSecretsEnv, secretsEnvShape } from "./secrets/secret-env.js";

export const registryEnvSchema = baseEnvSchema.extend({
  /** The registry owns API tokens, so it cannot run without the key for their digests. */
  AUTH_TOKEN_KEY: z
    .string({ error: "is required: 32+ random bytes, base64 (e.g. `openssl rand -base64 32`)" })
    .refine((v) => Buffer.from(v, "base64").length >= 32, "must be at least 32 bytes, base64-encoded")
    .transform((v) => Buffer.from(v, "base64")),
  /** Installed as the first admin token when no token exists yet (first start). */
  NEXUS_BOOTSTRAP_TOKEN: z
    .string()
    .regex(/^nxs_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, "must look like nxs_<16 hex>_<43 base64url> (see README)")
    .optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4100),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default("config_registry"),
  /** Environments a new namespace gets when it names none. */
  DEFAULT_ENVIRONMENTS: z
    .string()
    .default("development,staging,production")
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)).min(1)),
  /** Writes reaching these environments (their overlay, or base) by non-admins become change requests. */
  PROTECTED_ENVIRONMENTS: z
    .string()
    .default("production")
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    ),
  /** Writes changing these environments wait for the drift-detector's policy check (default: none). */
  POLICY_CHECK_ENVIRONMENTS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    ),
  POLICY_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
  /** When the policy check does not answer: refuse the write (false, the default) or let it through. */
  POLICY_CHECK_FAIL_OPEN: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  RESOLVED_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  /** In-process cache of resolved documents in front of Redis; 0 turns it off. */
  RESOLVED_MEMORY_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(DEFAULT_MEMORY_TTL_MS),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Bare caches of Git sources' repositories, one per source (kept across restarts if on a volume). */
  GIT_CACHE_DIR: z.string().min(1).default(join(tmpdir(), "nexus-git-cache")),
  /** Cron pattern of the reconcile that catches missed webhooks; `off` disables it. */
  GIT_RECONCILE_SCHEDULE: z
    .string()
    .default("*/3 * * * *")
    .refine((v) => v === "off" || v.trim().split(/\s+/).length >= 5, "must be a cron pattern or `off`"),
  /** Largest webhook body accepted (GitHub caps pushes at 25 MB). */
  GIT_WEBHOOK_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(5 * 1024 * 1024),
  /** A signed webhook timestamp (Standard Webhooks) older or newer than this is refused. */
  GIT_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).default(300),
  /** Passed on to `git` (and only these two of our variables). */
  PATH: z.string().min(1).default("/usr/local/bin:/usr/bin:/bin"),
  HOME: z.string().min(1).optional(),
  GIT_FETCH_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
  /**
   * Loopback, private or link-local addresses/CIDRs that Git sources may still reach (a Git server
   * on the same host or network); empty: only public addresses (and file:// paths).
   */
  GIT_ALLOW_ADDRESSES: allowAddressList(),
  // Secrets: master keys for envelope encryption (src/secrets/secret-env.ts).
  ...secretsEnvShape,
});
export type RegistryEnv = z.infer<typeof registryEnvSchema>;

export const loadRegistryEnv = (): Readonly<RegistryEnv> =>
  loadEnv(registryEnvSchema.superRefine(checkSecretsEnv));
