import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createLogger, type Logger } from "@nexus/kit";
import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import { buildApp, type RegistryApp } from "../../src/app.js";
import type { Keyring } from "../../src/secrets/secret-crypto-fns.js";

export const REGISTRY_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
export const REGISTRY_SCHEMA = "config_registry";

export interface Harness {
  registry: RegistryApp;
  db: TestDatabase;
  nats: TestBus;
  redis: TestRedis;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Run without Redis (reads from Postgres only). */
  withoutRedis?: boolean;
  outboxRelay?: boolean;
  /** Default: silent. */
  logger?: Logger;
  /** Master keys for secrets; default: one random key per harness; null: secrets not configured. */
  secretKeys?: Keyring | null;
}

/** The registry on real Postgres (cloned template), real NATS (own prefix) and real Redis (own prefix). */
export async function startRegistry(options: HarnessOptions = {}): Promise<Harness> {
  const [db, nats, redis] = await Promise.all([
    createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
    createTestBus({ source: "nexus/config-registry" }),
    createTestRedis(),
  ]);
  const logger = options.logger ?? createLogger({ service: "config-registry-test", level: "silent" });
  const registry = await buildApp({
    logger,
    pool: db.pool,
    redis: options.withoutRedis ? null : redis.redis,
    nc: nats.nc,
    bus: nats.bus,
    secretKeys: options.secretKeys === undefined ? testKeyring() : options.secretKeys,
    config: {
      databaseUrl: db.url,
      schema: REGISTRY_SCHEMA,
      defaultEnvironments: ["development", "staging", "production"],
      cacheTtlSeconds: 60,
      bodyLimit: 1024 * 1024,
      outboxRelay: options.outboxRelay ?? true,
    },
  });
  await registry.workers.start();
  await registry.app.ready();
  return {
    registry,
    db,
    nats,
    redis,
    async close() {
      await registry.app.close();
      await registry.workers.stop();
      await Promise.allSettled([db.drop(), nats.cleanup(), redis.cleanup()]);
    },
  };
}

/** JSON request helper over app.inject. */
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
    headers: {
      ...(body !== undefined ? { "content-type": isString ? "application/yaml" : "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: isString ? body : JSON.stringify(body) } : {}),
  });
  const json = res.body && res.headers["content-type"]?.toString().includes("json") ? res.json() : undefined;
  return { status: res.statusCode, headers: res.headers, body: json, raw: res.body };
}

/** A keyring with one random master key (or these ids, the first active). */
export function testKeyring(ids: string[] = ["test-1"]): Keyring {
  return { keys: new Map(ids.map((id) => [id, randomBytes(32)])), activeKeyId: ids[0]! };
}
