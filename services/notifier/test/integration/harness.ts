import { fileURLToPath } from "node:url";
import type { EventData, EventType } from "@nexus/contracts";
import { createLogger, type Logger, newSealingKey, parseSealingKeys, type SealingKeys } from "@nexus/kit";
import {
  createTestBus,
  createTestDatabase,
  startTestIssuer,
  type TestBus,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import { buildApp, type NotifierApp, type NotifierConfig } from "../../src/app.js";

export const NOTIFIER_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
export const NOTIFIER_SCHEMA = "notifier";
export const INTAKE_TOKEN = "intake-token-0123456789abcdef";

/** One secrets key per test process: every app and spawned notifier of a test file shares it. */
export const TEST_SECRETS_KEY = newSealingKey("test1");
export const testSecretsKeys = (): SealingKeys => parseSealingKeys(TEST_SECRETS_KEY).keys!;

export const testConfig = (overrides: Partial<NotifierConfig> = {}): NotifierConfig => ({
  alertmanagerToken: INTAKE_TOKEN,
  links: { dashboardUrl: "https://nexus.example.com", registryUrl: "https://api.nexus.example.com" },
  outbound: { allowHttp: true, allowAddresses: ["127.0.0.1"], timeoutMs: 2_000, maxResponseBytes: 4096 },
  delivery: { maxAttempts: 3, backoffBaseMs: 50, backoffMaxMs: 200, leaseMs: 2_000 },
  slackIntervalMs: 300,
  workerPollMs: 100,
  consumeEvents: true,
  consumerConcurrency: 4,
  bodyLimit: 1024 * 1024,
  routingCacheMs: 0,
  secretsKeys: testSecretsKeys(),
  ...overrides,
});

export interface Harness {
  app: NotifierApp;
  /** A real OIDC-style issuer; the notifier verifies its JWTs against its JWKS. */
  issuer: TestIssuer;
  /** Bearer token of an admin named `tester` (the actor of the harness's calls). */
  adminToken: string;
  db: TestDatabase;
  nats: TestBus;
  publish<T extends EventType>(type: T, data: EventData<T>): Promise<void>;
  call(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
    body: any;
    headers: Record<string, unknown>;
  }>;
  /** Poll until `fn` returns something truthy. */
  until<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  /** The same database and bus, a fresh app (a restart). */
  restart(overrides?: Partial<NotifierConfig>): Promise<void>;
  close(): Promise<void>;
}

const logger = createLogger({
  service: "notifier-test",
  level: (process.env.NOTIFIER_TEST_LOG as "silent") ?? "silent",
});

export async function startNotifier(
  overrides: Partial<NotifierConfig> = {},
  /** `nats` and `issuer`: share another harness's (then its owner closes them). */
  options: { logger?: Logger; nats?: TestBus; issuer?: TestIssuer } = {},
): Promise<Harness> {
  const log = options.logger ?? logger;
  const [db, nats, issuer] = await Promise.all([
    createTestDatabase({ schema: NOTIFIER_SCHEMA, migrationsDir: NOTIFIER_MIGRATIONS }),
    options.nats ?? createTestBus({ source: "nexus/test", logger: log }),
    options.issuer ?? startTestIssuer(),
  ]);
  const adminToken = await issuer.token(["admin"], { subject: "tester", expiresIn: "1h" });
  const build = async (o: Partial<NotifierConfig>) => {
    const app = await buildApp({
      access: { authenticator: issuer.authenticator(log) },
      logger: log,
      pool: db.pool,
      nc: nats.nc,
      bus: nats.bus,
      config: testConfig(o),
    });
    await app.workers.start();
    await app.app.ready();
    return app;
  };
  let app = await build(overrides);
  const h: Harness = {
    get app() {
      return app;
    },
    db,
    nats,
    issuer,
    adminToken,
    async publish(type, data) {
      await nats.bus.publish(type, data);
    },
    async call(method, url, body, headers = {}) {
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
      const json = res.headers["content-type"]?.toString().includes("json") ? res.json() : undefined;
      return { status: res.statusCode, body: json, headers: res.headers };
    },
    async until(fn, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > deadline) throw new Error("condition not met in time");
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async restart(o = overrides) {
      await app.app.close();
      await app.workers.stop();
      app = await build(o);
    },
    async close() {
      await app.app.close();
      await app.workers.stop();
      await Promise.allSettled([
        db.drop(),
        options.nats ? undefined : nats.cleanup(),
        options.issuer ? undefined : issuer.close(),
      ]);
    },
  };
  return h;
}

export const raised = (
  over: Partial<EventData<"nexus.alert.raised">> = {},
): EventData<"nexus.alert.raised"> => ({
  schemaVersion: 1,
  fingerprint: "fp-1",
  severity: "critical",
  summary: "payments-api instances run an old revision",
  details: "3 of 3 instances still run revision 6.",
  labels: { namespace: "payments", environment: "production", instance: "pod-1" },
  links: [{ title: "Dashboard", url: "https://nexus.example.com/namespaces/payments" }],
  source: "monitor",
  actionTaken: "Nexus sent a resync command to 3 instances.",
  startsAt: "2026-01-01T00:00:00.000Z",
  ...over,
});

export const resolvedOf = (
  r: EventData<"nexus.alert.raised">,
  endsAt = "2026-01-01T00:30:00.000Z",
): EventData<"nexus.alert.resolved"> => ({
  ...r,
  endsAt,
});
