import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createTestDatabase,
  createTestNats,
  createTestRedis,
  type TestDatabase,
  type TestNats,
  type TestRedis,
} from "@nexus/test-fixtures";
import { serviceNames } from "../deploy/deploy-files.js";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { registryAuth } from "./registry-process.js";
import { freePort, type ServiceProcess, startServiceProcess } from "./service-process.js";

/** Which URL variable of a service names which other service (each service's env schema). */
const URL_VARIABLES: Record<string, string> = {
  REGISTRY_URL: "config-registry",
  DRIFT_DETECTOR_URL: "drift-detector",
  NOTIFIER_URL: "notifier",
  ORCHESTRATOR_URL: "orchestrator",
};

export interface ScaleOut {
  db: TestDatabase;
  nats: TestNats;
  redis: TestRedis;
  /** Spans of every process (OTLP/HTTP JSON), each naming its instance. */
  receiver: OtlpReceiver;
  auth: ReturnType<typeof registryAuth>;
  /** `[instance 1, instance 2]` of each service, by directory name. */
  instances: Map<string, ServiceProcess[]>;
  /** Instance `n` (1 or 2) of a service. */
  instance(name: string, n: 1 | 2): ServiceProcess;
  /** An admin request to a service instance (the registry's bootstrap token works everywhere). */
  send(url: string, method: string, path: string, body?: unknown, contentType?: string): Promise<Response>;
  /** SIGKILL instance 1 of every service at once. */
  killFirstOfEach(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Two instances of every service (built, as deployed) on one NATS, Postgres and Redis, tracing to
 * one OTLP receiver. Instance n of a service is told the URLs of instance n of the others (ports
 * chosen first), so killing instance 1 of each leaves a complete system of instances 2: the
 * orchestrators reach a live registry and drift-detector, not the 127.0.0.1:4100/4200 defaults.
 */
export async function startScaleOut(extraEnv: Record<string, string> = {}): Promise<ScaleOut> {
  const receiver = await startOtlpReceiver();
  const [db, nats, redis] = await Promise.all([
    createTestDatabase({ schema: "scale_probe" }),
    createTestNats(),
    createTestRedis(),
  ]);
  const backupDir = await mkdtemp(join(tmpdir(), "nexus-scale-backups-"));
  const auth = registryAuth();
  const env = {
    ...auth.env,
    DATABASE_URL: db.url,
    NATS_PREFIX: nats.prefix,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    NOTIFIER_SECRETS_KEY: `n1:${randomBytes(32).toString("base64")}`,
    ORCHESTRATOR_HOOK_KEY: randomBytes(32).toString("base64url"),
    ORCHESTRATOR_API_TOKEN: auth.token,
    BACKUP_DIR: backupDir,
    // Backups only when the scenario asks: the default schedule (incrementals every 15 min) would
    // add one whenever a run crosses a quarter hour.
    SCHEDULE_ENABLED: "false",
    HEARTBEAT_INTERVAL_SECONDS: "0",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    ...extraEnv,
  };
  const names = await serviceNames();
  const ports = new Map<string, number>();
  for (const name of names) for (const n of [1, 2]) ports.set(`${name}-${n}`, await freePort());
  const urlsFor = (n: number) =>
    Object.fromEntries(
      Object.entries(URL_VARIABLES).map(([variable, service]) => [
        variable,
        `http://127.0.0.1:${ports.get(`${service}-${n}`)}`,
      ]),
    );

  const instances = new Map<string, ServiceProcess[]>();
  const stopAll = async () => {
    await Promise.all([...instances.values()].flat().map((p) => p.stop()));
    await receiver.close();
    await db.drop();
    await nats.cleanup();
    await redis.cleanup();
    await rm(backupDir, { recursive: true, force: true });
  };
  try {
    // One service after the other (migrations run once, under their lock), both instances at once.
    for (const name of names) {
      const pair = await Promise.all(
        [1, 2].map((n) =>
          startServiceProcess(
            name,
            `services/${name}/src/main.ts`,
            {
              ...env,
              ...urlsFor(n),
              INSTANCE_ID: `${name}-${n}`,
              PORT: String(ports.get(`${name}-${n}`)),
              // Each instance its own Git cache, as each pod has its own disk.
              GIT_CACHE_DIR: join(backupDir, `git-cache-${name}-${n}`),
            },
            { built: true },
          ),
        ),
      );
      instances.set(name, pair);
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }

  return {
    db,
    nats,
    redis,
    receiver,
    auth,
    instances,
    instance(name, n) {
      const p = instances.get(name)?.[n - 1];
      if (!p) throw new Error(`no instance ${n} of ${name}`);
      return p;
    },
    send: (url, method, path, body, contentType = "application/json") =>
      fetch(`${url}${path}`, {
        method,
        headers: { ...auth.headers, ...(body === undefined ? {} : { "content-type": contentType }) },
        ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
      }),
    async killFirstOfEach() {
      await Promise.all([...instances.values()].map((pair) => pair[0]?.kill()));
    },
    stop: stopAll,
  };
}
