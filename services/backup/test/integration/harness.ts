import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, createPool, migrate, type Pool, type SealingKeys } from "@nexus/kit";
import { startTestIssuer, type TestIssuer } from "@nexus/test-fixtures";
import {
  type Harness as RegistryHarness,
  call as registryCall,
  startRegistry,
} from "../../../config-registry/test/integration/harness.js";
import { type BackupApp, type BackupConfig, buildApp } from "../../src/app.js";
import { createLocalStorage } from "../../src/storage/local-storage.js";
import type { BundleStorage } from "../../src/storage/storage-types.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const BACKUP_MIGRATIONS = here("../../migrations");
const OTHER_SERVICES = [
  { schema: "drift_detector", dir: here("../../../drift-detector/migrations") },
  { schema: "notifier", dir: here("../../../notifier/migrations") },
];
export const SCHEMAS = ["config_registry", "drift_detector", "notifier"];

const logger = createLogger({
  service: "backup-test",
  level: (process.env.BACKUP_TEST_LOG as "silent") ?? "silent",
});

export interface BackupHarness {
  /** The real registry (its own test harness) on the database every schema lives in. */
  registry: RegistryHarness;
  issuer: TestIssuer;
  adminToken: string;
  pool: Pool;
  dir: string;
  storage: BundleStorage;
  /** A backup service over that database; several can be built (other keys, other storage). */
  build(overrides?: Partial<BackupConfig> & { storage?: BundleStorage }): Promise<BackupApp>;
  call(
    app: BackupApp,
    method: "GET" | "POST",
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  ): Promise<{ status: number; body: any }>;
  registryCall: (
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    url: string,
    body?: unknown,
  ) => ReturnType<typeof registryCall>;
  close(): Promise<void>;
}

/** The registry, the drift-detector's and notifier's schemas migrated beside it, and the backup schema. */
export async function startBackupHarness(): Promise<BackupHarness> {
  const [registry, issuer, dir] = await Promise.all([
    startRegistry(),
    startTestIssuer(),
    mkdtemp(join(tmpdir(), "nexus-backup-test-")),
  ]);
  for (const s of OTHER_SERVICES)
    await migrate({ databaseUrl: registry.db.url, schema: s.schema, dir: s.dir });
  await migrate({ databaseUrl: registry.db.url, schema: "backup", dir: BACKUP_MIGRATIONS });
  const pool = createPool({ connectionString: registry.db.url, schema: "backup" });
  // The registry over real HTTP: namespace restores call its restore endpoint with its admin token.
  const registryUrl = await registry.registry.app.listen({ host: "127.0.0.1", port: 0 });
  const adminToken = await issuer.token(["admin"], { subject: "backup-tester", expiresIn: "1h" });
  const storage = createLocalStorage(dir);
  const apps: BackupApp[] = [];

  return {
    registry,
    issuer,
    adminToken,
    pool,
    dir,
    storage,
    async build(overrides = {}) {
      const { storage: own, ...config } = overrides;
      const app = await buildApp({
        access: { authenticator: issuer.authenticator(logger) },
        logger,
        pool,
        nc: registry.nats.nc,
        bus: registry.nats.bus,
        storage: own ?? storage,
        config: {
          schemas: SCHEMAS,
          keys: null as SealingKeys | null,
          databaseUrl: registry.db.url,
          schema: "backup",
          outboxRelay: true,
          registry: { url: registryUrl, token: registry.adminToken, timeoutMs: 10_000 },
          ...config,
        },
      });
      await app.workers.start();
      await app.app.ready();
      apps.push(app);
      return app;
    },
    async call(app, method, url, body, headers = {}) {
      const res = await app.app.inject({
        method,
        url,
        headers: {
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          authorization: `Bearer ${adminToken}`,
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      const json = String(res.headers["content-type"] ?? "").includes("json") ? res.json() : undefined;
      return { status: res.statusCode, body: json };
    },
    registryCall: (method, url, body) => registryCall(registry, method, url, body),
    async close() {
      for (const app of apps) {
        await app.app.close();
        await app.workers.stop();
      }
      await pool.end();
      await issuer.close();
      await registry.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Wait for a background run (backup, verification, restore) through the API, as the CLI does. */
export async function until<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
