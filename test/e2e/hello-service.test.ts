import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { CloudEvent, ConfigApplied } from "@nexus/contracts";
import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  TEST_NATS_URL,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { type HelloServiceProcess, startHelloService } from "../support/hello-service-process.js";
import {
  freePort,
  type RegistryProcess,
  registryAuth,
  startRegistryProcess,
} from "../support/registry-process.js";

const NEXUS_CLI = fileURLToPath(new URL("../../packages/cli/bin/nexus.js", import.meta.url));
const run = promisify(execFile);

/**
 * The SDK as a user runs it: the real registry process, the example service as its own process,
 * config changed with the `nexus` CLI, and the service's config.applied acks observed on NATS.
 */
describe("hello-service (example) on the real registry", () => {
  let db: TestDatabase;
  let nats: TestBus;
  let redis: TestRedis;
  let registry: RegistryProcess | undefined;
  let registryPort: number;
  let cacheDir: string;
  const services: HelloServiceProcess[] = [];
  const acks: ConfigApplied[] = [];
  const ackWaiters = new Set<() => void>();

  const auth = registryAuth();
  const registryEnv = (port: number) => ({
    ...auth.env,
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: REGISTRY_SCHEMA,
    NATS_PREFIX: nats.prefix,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    PORT: String(port),
  });
  const serviceEnv = (instanceId: string) => ({
    NEXUS_URL: `http://127.0.0.1:${registryPort}`,
    NEXUS_TOKEN: auth.token,
    NATS_URL: TEST_NATS_URL,
    NATS_PREFIX: nats.prefix,
    NEXUS_NAMESPACE: "hello",
    NEXUS_ENVIRONMENT: "development",
    NEXUS_CACHE_FILE: join(cacheDir, "hello.json"),
    NEXUS_INSTANCE_ID: instanceId,
  });

  const waitForAck = (match: (a: ConfigApplied) => boolean, what: string, timeoutMs = 20_000) =>
    new Promise<ConfigApplied>((resolve, reject) => {
      const check = () => {
        const found = acks.find(match);
        if (!found) return;
        clearTimeout(timer);
        ackWaiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        ackWaiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; acks: ${JSON.stringify(acks)}`));
      }, timeoutMs);
      ackWaiters.add(check);
      check();
    });

  const request = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? auth.headers : { ...auth.headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  /** `nexus set hello development -f <yaml>` as a person would type it; returns the new revision. */
  const setWithCli = async (url: string, yaml: string, message: string) => {
    const file = join(cacheDir, "development.yaml");
    await writeFile(file, yaml);
    const { stdout } = await run(
      process.execPath,
      [NEXUS_CLI, "set", "hello", "development", "-f", file, "-m", message, "--json"],
      {
        env: {
          ...process.env,
          NEXUS_URL: url,
          NEXUS_TOKEN: auth.token,
          NEXUS_CONFIG: join(cacheDir, "cli.json"),
          NO_COLOR: "1",
        },
      },
    );
    return JSON.parse(stdout) as { revision: number; hash: string };
  };
  const resolved = async (url: string) => {
    const res = await request(url, "GET", "/v1/namespaces/hello/environments/development/resolved");
    const { revision, hash } = res.body as { revision: number; hash: string };
    return { revision, hash };
  };

  beforeAll(async () => {
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestBus(),
      createTestRedis(),
    ]);
    cacheDir = await mkdtemp(join(tmpdir(), "hello-service-"));
    nats.nc.subscribe(`${nats.prefix}.config.applied.development.hello`, {
      callback: (_err, msg) => {
        acks.push((JSON.parse(msg.string()) as CloudEvent<ConfigApplied>).data);
        for (const check of ackWaiters) check();
      },
    });
    registryPort = await freePort();
    registry = await startRegistryProcess(registryEnv(registryPort), { built: true });
    expect((await request(registry.url, "POST", "/v1/namespaces", { name: "hello" })).status).toBe(201);
    const base = await request(registry.url, "PUT", "/v1/namespaces/hello/layers/base", {
      greeting: "hello",
    });
    expect(base.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(services.map((s) => s.stop()));
    await registry?.stop();
    await rm(cacheDir, { recursive: true, force: true }).catch(() => undefined);
    await Promise.allSettled([db?.drop(), nats?.cleanup(), redis?.cleanup()]);
  });

  it("hot-reloads a change written with the CLI and acks the registry's revision and hash", async () => {
    const service = await startHelloService(serviceEnv("hello-1"));
    services.push(service);
    const initial = await resolved(registry!.url);
    const first = await waitForAck((a) => a.instanceId === "hello-1", "initial ack");
    expect(first).toMatchObject({ status: "applied", trigger: "initial", source: "live", ...initial });
    expect(await service.greeting()).toMatchObject({ greeting: "hello, world!", revision: initial.revision });

    const write = await setWithCli(registry!.url, "greeting: bonjour\naudience: Nexus\n", "French");
    const changed = await resolved(registry!.url);
    expect(changed.revision).toBe(write.revision);
    const ack = await waitForAck(
      (a) => a.instanceId === "hello-1" && a.hash === changed.hash,
      "ack of the change",
    );
    expect(ack).toMatchObject({ status: "applied", trigger: "change", revision: changed.revision });
    expect(await service.greeting()).toMatchObject({ greeting: "bonjour, Nexus!", hash: changed.hash });
    await service.waitForLog((l) => l.msg === "hello-service reloads its config", "reload log line");

    // The service's own rule refuses this one: it keeps greeting as before and says why.
    await setWithCli(registry!.url, `greeting: ${"x".repeat(81)}\naudience: Nexus\n`, "too long");
    const refused = await resolved(registry!.url);
    const rejection = await waitForAck((a) => a.hash === refused.hash, "rejected ack");
    expect(rejection).toMatchObject({ status: "rejected", reason: "greeting is 81 characters; 80 at most" });
    expect(await service.greeting()).toMatchObject({ greeting: "bonjour, Nexus!", hash: changed.hash });

    await setWithCli(registry!.url, "greeting: bonjour\naudience: Nexus\n", "back to French");
    const restored = await resolved(registry!.url);
    await waitForAck(
      (a) => a.instanceId === "hello-1" && a.revision === restored.revision,
      "ack after restore",
    );
  }, 60_000);

  it("with Nexus killed, a restarted service runs its last-known-good config, then catches up when Nexus returns", async () => {
    const before = await resolved(registry!.url);
    await registry!.kill();
    registry = undefined;
    await services.pop()!.stop();

    const service = await startHelloService(serviceEnv("hello-2"));
    services.push(service);
    const cold = await waitForAck((a) => a.instanceId === "hello-2", "ack of the cached config");
    expect(cold).toMatchObject({ status: "applied", trigger: "initial", source: "cache", hash: before.hash });
    expect(await service.greeting()).toMatchObject({ greeting: "bonjour, Nexus!", source: "cache" });
    await service.waitForLog(
      (l) => l.msg === "nexus-client: running the last-known-good config (cached revision)",
      "cache log line",
    );

    // Meanwhile Nexus moves on, through an instance this service cannot reach.
    const elsewhere = await startRegistryProcess(registryEnv(await freePort()), { built: true });
    await setWithCli(elsewhere.url, "greeting: hallo\naudience: Nexus\nshout: true\n", "German, loud");
    const latest = await resolved(elsewhere.url);
    await elsewhere.stop();
    expect(await service.greeting()).toMatchObject({ source: "cache", hash: before.hash });

    registry = await startRegistryProcess(registryEnv(registryPort), { built: true });
    const caughtUp = await waitForAck(
      (a) => a.instanceId === "hello-2" && a.hash === latest.hash,
      "ack after catching up",
      30_000,
    );
    expect(caughtUp).toMatchObject({ status: "applied", source: "live", revision: latest.revision });
    expect(await service.greeting()).toMatchObject({ greeting: "HALLO, NEXUS!", source: "live" });
  }, 120_000);
});
