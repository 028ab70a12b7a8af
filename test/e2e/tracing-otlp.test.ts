import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectConfig } from "@nexus/client";
import {
  createTestDatabase,
  createTestNats,
  createTestRedis,
  TEST_NATS_URL,
  type TestDatabase,
  type TestNats,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import {
  type OtlpReceiver,
  type ReceivedSpan,
  SPAN_KIND,
  spanAttribute,
  startOtlpReceiver,
} from "../support/otlp-receiver.js";
import { registryAuth } from "../support/registry-process.js";
import { type ServiceProcess, startServiceProcess } from "../support/service-process.js";

const { SERVER, PRODUCER, CONSUMER } = SPAN_KIND;
const attr = spanAttribute;

/**
 * Two real service processes export their spans over OTLP/HTTP (the JSON encoding) to a local
 * receiver speaking the protocol: the registry's write and its publish of config.changed, the
 * drift-detector's processing of it, and of the applied-ack of an SDK instance that applied the
 * change, arrive as one trace across the services.
 */
describe("tracing over OTLP/HTTP", () => {
  let receiver: OtlpReceiver;
  let db: TestDatabase;
  let nats: TestNats;
  let redis: TestRedis;
  let registry: ServiceProcess;
  let detector: ServiceProcess;
  const auth = registryAuth();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const endpoint = receiver.endpoint;

    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestNats(),
      createTestRedis(),
    ]);
    const common = {
      DATABASE_URL: db.url,
      NATS_PREFIX: nats.prefix,
      REDIS_KEY_PREFIX: redis.keyPrefix,
      AUTH_TOKEN_KEY: auth.env.AUTH_TOKEN_KEY as string,
      HEARTBEAT_INTERVAL_SECONDS: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      // Export within a fifth of a second instead of five (the batch processor's standard variable).
      OTEL_BSP_SCHEDULE_DELAY: "200",
    };
    [registry, detector] = await Promise.all([
      startServiceProcess("config-registry", "services/config-registry/src/main.ts", {
        ...common,
        ...auth.env,
        DATABASE_SCHEMA: REGISTRY_SCHEMA,
      }),
      startServiceProcess("drift-detector", "services/drift-detector/src/main.ts", common),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([registry?.stop(), detector?.stop()]);
    await receiver?.close();
    await db?.drop();
    await nats?.cleanup();
    await redis?.cleanup();
  });

  it("receives one trace from the registry's write to the drift-detector's processing", async () => {
    const send = (method: string, path: string, body: unknown) =>
      fetch(`${registry.url}${path}`, {
        method,
        headers: { ...auth.headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await send("POST", "/v1/namespaces", { name: "otlp-shop" })).status).toBe(201);
    // An instance of a consuming service (the SDK, over NATS), running the first revision.
    const cacheDir = await mkdtemp(join(tmpdir(), "nexus-otlp-client-"));
    const client = await connectConfig({
      namespace: "otlp-shop",
      environment: "production",
      service: "otlp-consumer",
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: nats.prefix,
      cacheFile: join(cacheDir, "cache.json"),
    });
    try {
      expect((await send("PUT", "/v1/namespaces/otlp-shop/layers/production", { replicas: 3 })).status).toBe(
        200,
      );
      await expect.poll(() => client.get(), { timeout: 10_000 }).toMatchObject({ replicas: 3 });
    } finally {
      await client.close();
      await rm(cacheDir, { recursive: true, force: true });
    }

    const findTrace = () => {
      const write = receiver.spans.find(
        (s) =>
          s.service === "config-registry" &&
          s.kind === SERVER &&
          attr(s, "http.request.method") === "PUT" &&
          attr(s, "url.path") === "/v1/namespaces/otlp-shop/layers/production",
      );
      const publish = receiver.spans.find(
        (s) =>
          s.kind === PRODUCER &&
          s.traceId === write?.traceId &&
          attr(s, "messaging.destination.name") === `${nats.prefix}.config.changed.production.otlp-shop`,
      );
      const processed = receiver.spans.filter(
        (s) => s.service === "drift-detector" && s.kind === CONSUMER && s.parentSpanId === publish?.spanId,
      );
      // The instance's applied-ack carries the change's trace context: the drift-detector's
      // processing of the ack is in the same trace.
      const ackProcessed = processed.filter((s) =>
        attr(s, "messaging.destination.name")?.startsWith(
          `${nats.prefix}.config.applied.production.otlp-shop`,
        ),
      );
      return { write, publish, processed, ackProcessed };
    };
    // Both processings: the ack's (handled one by one) can be exported before config.changed's,
    // which the detector handles in batches that wait up to EVENT_BATCH_WAIT_MS for more.
    await expect
      .poll(
        () => {
          const { processed, ackProcessed } = findTrace();
          return ackProcessed.length > 0 && processed.length > ackProcessed.length;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);

    const { write, publish, processed, ackProcessed } = findTrace();
    expect(processed.length).toBeGreaterThan(ackProcessed.length); // config.changed itself, too
    expect(publish?.service).toBe("config-registry");
    expect(publish?.parentSpanId).toBe(write?.spanId);
    expect(attr(publish as ReceivedSpan, "messaging.system")).toBe("nats");
    for (const span of processed) {
      expect(span.traceId).toBe(write?.traceId);
      expect(attr(span, "messaging.operation.type")).toBe("process");
      expect(attr(span, "messaging.consumer.group.name")).toMatch(/^drift-/); // its durables
    }
    expect([...receiver.contentTypes]).toEqual(["application/json"]);
  });
});
