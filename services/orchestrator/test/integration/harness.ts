import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import type { CloudEvent, EventData, EventType } from "@nexus/contracts";
import {
  type Bus,
  combineAuthenticators,
  createBus,
  createLogger,
  createRemoteTokenAuthenticator,
  type Pool,
  type Stoppable,
} from "@nexus/kit";
import {
  createTestDatabase,
  startTestIssuer,
  TEST_NATS_URL,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import {
  type Harness as RegistryHarness,
  call as registryCall,
  startRegistry,
} from "../../../config-registry/test/integration/harness.js";
import type { DetectorConfig } from "../../../drift-detector/src/app.js";
import {
  DETECTOR_MIGRATIONS,
  DETECTOR_SCHEMA,
  type Detector,
  heartbeat,
  startDetector,
} from "../../../drift-detector/test/integration/harness.js";
import { buildApp, type OrchestratorApp, type OrchestratorConfig } from "../../src/app.js";

/** Parsed JSON of a response or event. */
export type JsonBody = ReturnType<typeof JSON.parse>;

export const ORCHESTRATOR_MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
export const ORCHESTRATOR_SCHEMA = "orchestrator";
export const HOOK_KEY = "test-hook-signing-key-0123456789";

const listenUrl = async (app: {
  listen(o: { host: string; port: number }): Promise<string>;
  server: { address(): unknown };
}) => {
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
};

export interface World {
  registry: RegistryHarness;
  registryUrl: string;
  detector: Detector;
  detectorUrl: string;
  issuer: TestIssuer;
  db: TestDatabase;
  /** The orchestrator's API token at the registry (admin), also what a child process uses. */
  apiToken: string;
  orchestrator: OrchestratorApp | undefined;
  config(over?: Partial<OrchestratorConfig>): OrchestratorConfig;
  /** Start an orchestrator in this process (one more, sharing the database, if one runs). */
  startOrchestrator(over?: Partial<OrchestratorConfig>, pool?: Pool): Promise<OrchestratorApp>;
  /** Stop every orchestrator of this process. */
  stopOrchestrator(): Promise<void>;
  /** OIDC tokens: alice edits (starts runs), bob and carol approve production. */
  tokens: { alice: string; bob: string; carol: string; viewer: string };
  /** Request to the orchestrator's HTTP API, as alice unless a token is given. */
  call(
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    body?: unknown,
    token?: string,
    contentType?: string,
  ): Promise<{ status: number; body: JsonBody }>;
  /** Request to the registry's HTTP API as its admin. */
  registryCall(
    method: "GET" | "POST" | "PUT" | "PATCH",
    url: string,
    body?: unknown,
  ): Promise<{ status: number; body: JsonBody }>;
  /** The resolved revision and hash of an environment now (what an instance would load). */
  resolved(namespace: string, environment: string): Promise<{ revision: number; hash: string }>;
  /** A consuming instance reports it runs this revision (heartbeat). */
  report(
    namespace: string,
    environment: string,
    instanceId: string,
    at: { revision: number; hash: string },
  ): Promise<void>;
  publish<T extends EventType>(type: T, data: EventData<T>): Promise<void>;
  /** Every pipeline.* and job.* event published so far (read back from JetStream). */
  events: CloudEvent<JsonBody>[];
  eventsOf(type: string, runId: string): CloudEvent<JsonBody>[];
  close(): Promise<void>;
}

/** `detectorConfig`: the detector's config overrides (a longer grace where a loaded machine's acks may come late). */
export async function startWorld(detectorConfig: Partial<DetectorConfig> = {}): Promise<World> {
  const issuer = await startTestIssuer();
  const registry = await startRegistry({
    oidc: issuer.authenticator(createLogger({ service: "t", level: "silent" })),
  });
  const [detectorDb, db] = await Promise.all([
    createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
    createTestDatabase({ schema: ORCHESTRATOR_SCHEMA, migrationsDir: ORCHESTRATOR_MIGRATIONS }),
  ]);
  const registryUrl = await listenUrl(registry.registry.app);
  const detector = await startDetector(detectorDb, registry.nats.prefix, issuer, detectorConfig, {
    bus: registry.nats.bus,
    key: registry.tokenKey,
  });
  const detectorUrl = await listenUrl(detector.app.app);
  const apiToken = await registry.tokenFor(["admin"], { name: "orchestrator", owner: "orchestrator" });
  const prefix = registry.nats.prefix;
  const events: CloudEvent<JsonBody>[] = [];
  const watch: Stoppable = await registry.nats.bus.consume(
    [
      "nexus.pipeline.started",
      "nexus.pipeline.step-started",
      "nexus.pipeline.step-succeeded",
      "nexus.pipeline.step-failed",
      "nexus.pipeline.awaiting-approval",
      "nexus.pipeline.approved",
      "nexus.pipeline.rolled-back",
      "nexus.pipeline.succeeded",
      "nexus.pipeline.failed",
      "nexus.job.started",
      "nexus.job.succeeded",
      "nexus.job.failed",
    ],
    { durable: `watch-${Math.random().toString(36).slice(2, 8)}`, concurrency: 1 },
    async (event) => {
      events.push(event as CloudEvent<JsonBody>);
    },
  );

  /** Orchestrators running in this process (several share the runs); `call` talks to the first. */
  const running: { app: OrchestratorApp; close(): Promise<void> }[] = [];
  const config = (over: Partial<OrchestratorConfig> = {}): OrchestratorConfig => ({
    databaseUrl: db.url,
    schema: ORCHESTRATOR_SCHEMA,
    outboxRelay: true,
    registryUrl,
    driftDetectorUrl: detectorUrl,
    apiToken,
    hookSigningKey: HOOK_KEY,
    runLeaseMs: 2_000,
    runPollMs: 50,
    watchPollMs: 100,
    retryMs: 200,
    // Generous: under CI load (browsers, other files) a registry answer can take over 2 s, which
    // turned a run start into a 503 `registry_unavailable` in the dashboard relay test.
    dependencyTimeoutMs: 8_000,
    allowedCommands: ["sh", "true", "sleep"],
    ...over,
  });

  const world: World = {
    registry,
    registryUrl,
    detector,
    detectorUrl,
    issuer,
    db,
    apiToken,
    events,
    get orchestrator() {
      return running[0]?.app;
    },
    config,
    async startOrchestrator(over = {}, pool = db.pool as unknown as Pool) {
      const nc = await connect({ servers: TEST_NATS_URL, name: "orchestrator-test", noAsyncTraces: true });
      const logger = createLogger({
        service: "orchestrator-test",
        level: process.env.TEST_LOG_LEVEL ?? "silent",
      });
      const bus: Bus = createBus({ nc, prefix, source: "nexus/orchestrator", logger });
      const app = await buildApp({
        logger,
        pool,
        nc,
        bus,
        access: {
          authenticator: combineAuthenticators({
            apiTokens: createRemoteTokenAuthenticator({ bus, key: registry.tokenKey }),
            oidc: issuer.authenticator(logger),
          }),
        },
        config: config(over),
      });
      await app.workers.start();
      await app.app.ready();
      running.push({
        app,
        async close() {
          await app.app.close();
          await app.workers.stop();
          await nc.close();
        },
      });
      return app;
    },
    async stopOrchestrator() {
      await Promise.all(running.splice(0).map((r) => r.close()));
    },
    tokens: {
      alice: await issuer.token(["editor:shop:*"], { subject: "alice" }),
      bob: await issuer.token(["approver:shop:production"], { subject: "bob" }),
      carol: await issuer.token(["approver:shop:*"], { subject: "carol" }),
      viewer: await issuer.token(["viewer:other:*"], { subject: "vera" }),
    },
    async call(method, url, body, token, contentType) {
      const first = running[0];
      if (!first) throw new Error("no orchestrator running");
      const res = await first.app.app.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${token ?? world.tokens.alice}`,
          ...(body !== undefined ? { "content-type": contentType ?? "application/json" } : {}),
        },
        ...(body !== undefined ? { payload: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      return { status: res.statusCode, body: res.body ? res.json() : undefined };
    },
    async registryCall(method, url, body) {
      const res = await registryCall(registry, method, url, body);
      return { status: res.status, body: res.body };
    },
    async resolved(namespace, environment) {
      const res = await registryCall(
        registry,
        "GET",
        `/v1/namespaces/${namespace}/environments/${environment}/resolved`,
      );
      return { revision: res.body.revision, hash: res.body.hash };
    },
    async report(namespace, environment, instanceId, at) {
      await world.publish(
        "nexus.instance.heartbeat",
        heartbeat({
          instanceId,
          namespace,
          environment,
          service: "shop-api",
          revision: at.revision,
          hash: at.hash,
        }),
      );
    },
    async publish(type, data) {
      const envelope = registry.nats.bus.envelope(type, data) as CloudEvent<unknown>;
      await registry.nats.bus.publishEnvelope(registry.nats.bus.subjectFor(type, data), envelope);
    },
    eventsOf: (type, runId) => events.filter((e) => e.type === type && e.data?.runId === runId),
    async close() {
      await world.stopOrchestrator().catch(() => undefined);
      await watch.stop().catch(() => undefined);
      await detector.stop().catch(() => undefined);
      await registry.close();
      await issuer.close();
      await Promise.allSettled([db.drop(), detectorDb.drop()]);
    },
  };
  return world;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(
  fn: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!check(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await sleep(50);
    last = await fn();
  }
  return last;
}

/** The orchestrator's `config.changed` durable (JetStream's consumer info), or null when it does not exist. */
export async function triggerDurable(world: World): Promise<unknown> {
  const { nc, streams } = world.registry.nats;
  const reply = await nc.request(
    `$JS.API.CONSUMER.INFO.${streams.events}.orchestrator-triggers-config-changed`,
  );
  const info = reply.json<{ error?: { code: number } }>();
  return info.error ? null : info;
}

/** Namespace `shop` with a base, a staging overlay and a production overlay. */
export async function seedShop(world: World): Promise<void> {
  const created = await world.registryCall("POST", "/v1/namespaces", { name: "shop" });
  if (created.status !== 201) throw new Error(`namespace: ${created.status} ${JSON.stringify(created.body)}`);
  const put = async (layer: string, content: unknown) => {
    const res = await world.registryCall("PUT", `/v1/namespaces/shop/layers/${layer}`, content);
    if (res.status !== 200) throw new Error(`${layer}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await put("base", {
    app: { name: "shop" },
    db: { host: "base-db", pool: 5 },
    checkout: { enabled: false },
  });
  await put("staging", { db: { host: "staging-db" }, replicas: 2, checkout: { enabled: true } });
  await put("production", { db: { host: "prod-db" }, replicas: 8 });
}
