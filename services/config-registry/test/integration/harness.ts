import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Authenticator, createLogger, type FailedAuthLimiter, type Logger } from "@nexus/kit";
import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import { buildApp, type GitConfig, type RegistryApp } from "../../src/app.js";
import type { Keyring } from "../../src/secrets/secret-crypto-fns.js";
import type { GroupCommitOptions } from "../../src/writes/group-commit.js";

export const REGISTRY_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
export const REGISTRY_SCHEMA = "config_registry";

export interface Harness {
  registry: RegistryApp;
  /** What `registry` was built from: a second instance (or a restarted one) uses the same. */
  registryDeps: Parameters<typeof buildApp>[0];
  db: TestDatabase;
  nats: TestBus;
  redis: TestRedis;
  /** The AUTH_TOKEN_KEY this registry digests tokens with (a second instance needs the same). */
  tokenKey: Buffer;
  /** An admin API token; `call` sends it unless told otherwise. */
  adminToken: string;
  /** A new API token with these grants (`editor:payments-*:staging`, ...). */
  tokenFor(
    grants: string[],
    options?: { name?: string; owner?: string; expiresInDays?: number },
  ): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Run without Redis (reads from Postgres only). */
  withoutRedis?: boolean;
  outboxRelay?: boolean;
  oidc?: Authenticator;
  /** Default: silent. */
  logger?: Logger;
  /** Master keys for secrets; default: one random key per harness; null: secrets not configured. */
  secretKeys?: Keyring | null;
  failures?: FailedAuthLimiter;
  rateLimitPerMinute?: number;
  /** Proxies whose X-Forwarded-For is believed (TRUST_PROXY). */
  trustProxy?: string[];
  /** Check writes to these environments against the drift-detector's policies. */
  policyCheck?: { environments: string[]; timeoutMs: number; failOpen: boolean };
  /** Environments whose writes by non-admins become change requests (default none). */
  protectedEnvironments?: string[];
  /** Git sources: default a fresh cache directory and no scheduled reconcile (call `gitReconciler.runOnce()`). */
  git?: Partial<GitConfig>;
  /** A bus of the caller's (e.g. on a server with permissions) instead of a fresh prefix; cleaned up by close(). */
  nats?: TestBus;
  groupCommit?: GroupCommitOptions;
}

/** The registry on real Postgres (cloned template), real NATS (own prefix) and real Redis (own prefix). */
export async function startRegistry(options: HarnessOptions = {}): Promise<Harness> {
  const [db, nats, redis] = await Promise.all([
    createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
    options.nats ?? createTestBus({ source: "nexus/config-registry" }),
    createTestRedis(),
  ]);
  const logger = options.logger ?? createLogger({ service: "config-registry-test", level: "silent" });
  const tokenKey = randomBytes(32);
  const registryDeps: Parameters<typeof buildApp>[0] = {
    logger,
    pool: db.pool,
    redis: options.withoutRedis ? null : redis.redis,
    nc: nats.nc,
    bus: nats.bus,
    secretKeys: options.secretKeys === undefined ? testKeyring() : options.secretKeys,
    auth: { tokenKey, oidc: options.oidc, failures: options.failures },
    config: {
      databaseUrl: db.url,
      schema: REGISTRY_SCHEMA,
      defaultEnvironments: ["development", "staging", "production"],
      cacheTtlSeconds: 60,
      bodyLimit: 1024 * 1024,
      outboxRelay: options.outboxRelay ?? true,
      protectedEnvironments: options.protectedEnvironments ?? [],
      rateLimitPerMinute: options.rateLimitPerMinute ?? 0,
      trustProxy: options.trustProxy ?? [],
      ...(options.policyCheck ? { policyCheck: options.policyCheck } : {}),
      ...(options.groupCommit ? { groupCommit: options.groupCommit } : {}),
      git: {
        cacheDir: join(tmpdir(), `nexus-git-cache-${randomBytes(6).toString("hex")}`),
        reconcile: false,
        ...options.git,
      },
    },
  };
  const registry = await buildApp(registryDeps);
  await registry.workers.start();
  await registry.app.ready();
  const tokenFor: Harness["tokenFor"] = async (grants, opts = {}) =>
    (
      await registry.services.tokens.create(
        { name: opts.name ?? "test", owner: opts.owner, grants, expiresInDays: opts.expiresInDays },
        "harness",
      )
    ).token;
  const adminToken = await tokenFor(["admin"], { name: "test-admin" });
  const harness: Harness = {
    registry,
    registryDeps,
    db,
    nats,
    redis,
    tokenKey,
    adminToken,
    tokenFor,
    async close() {
      // The instance answering now (a test may have replaced the first one, as a restart).
      await harness.registry.app.close();
      await harness.registry.workers.stop();
      await Promise.allSettled([db.drop(), nats.cleanup(), redis.cleanup()]);
    },
  };
  return harness;
}

/**
 * JSON request helper over app.inject, as the harness's admin unless `headers.authorization` is
 * given (an empty string sends no credentials at all).
 */
export async function call(
  h: Harness,
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const isString = typeof body === "string";
  const res = await h.registry.app.inject({
    method,
    url,
    headers: withAuth(h, {
      ...(body !== undefined ? { "content-type": isString ? "application/yaml" : "application/json" } : {}),
      ...headers,
    }),
    ...(body !== undefined ? { payload: isString ? body : JSON.stringify(body) } : {}),
  });
  const type = String(res.headers["content-type"] ?? "");
  const json = res.body && type.includes("json") && !type.includes("ndjson") ? res.json() : undefined;
  return { status: res.statusCode, headers: res.headers, body: json, raw: res.body };
}

/** Headers with the admin token added, unless the caller chose its own (or none, with ""). */
export function withAuth(
  h: Pick<Harness, "adminToken">,
  headers: Record<string, string> = {},
): Record<string, string> {
  if (headers.authorization === undefined) return { ...headers, authorization: `Bearer ${h.adminToken}` };
  if (headers.authorization === "") {
    const { authorization: _, ...rest } = headers;
    return rest;
  }
  return headers;
}

/** A keyring with one random master key (or these ids, the first active). */
export function testKeyring(ids: string[] = ["test-1"]): Keyring {
  return { keys: new Map(ids.map((id) => [id, randomBytes(32)])), activeKeyId: ids[0]! };
}
