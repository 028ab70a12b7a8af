import { jetstreamManager } from "@nats-io/jetstream";
import type { CloudEvent } from "@nexus/contracts";
import {
  createTestBus,
  createTestDatabase,
  createTestRedis,
  type TestBus,
  type TestDatabase,
  type TestRedis,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  REGISTRY_MIGRATIONS,
  REGISTRY_SCHEMA,
} from "../../services/config-registry/test/integration/harness.js";
import { type RegistryProcess, registryAuth, startRegistryProcess } from "../support/registry-process.js";

/**
 * The outbox promise, shown on the real process: a write acknowledged to the caller is committed
 * with its event; if the service dies before publishing, the event goes out after restart, once.
 */
describe("crash between the Postgres commit and the publish", () => {
  let db: TestDatabase;
  let nats: TestBus;
  let redis: TestRedis;
  let proc: RegistryProcess | undefined;

  const auth = registryAuth();
  const env = (relay: boolean) => ({
    ...auth.env,
    DATABASE_URL: db.url,
    DATABASE_SCHEMA: REGISTRY_SCHEMA,
    NATS_PREFIX: nats.prefix,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    OUTBOX_RELAY_ENABLED: String(relay),
  });

  const subjectCounts = async (): Promise<Record<string, number>> => {
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(nats.streams.events, { subjects_filter: ">" });
    return info.state.subjects ?? {};
  };

  const waitForCount = async (subject: string, n: number) => {
    const deadline = Date.now() + 10_000;
    while (((await subjectCounts())[subject] ?? 0) < n && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    return (await subjectCounts())[subject] ?? 0;
  };

  const put = (url: string, path: string, body: unknown) =>
    fetch(`${url}${path}`, {
      method: "PUT",
      headers: { ...auth.headers, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    [db, nats, redis] = await Promise.all([
      createTestDatabase({ schema: REGISTRY_SCHEMA, migrationsDir: REGISTRY_MIGRATIONS }),
      createTestBus(),
      createTestRedis(),
    ]);
  });
  afterAll(async () => {
    await proc?.stop();
    await Promise.allSettled([db?.drop(), nats?.cleanup(), redis?.cleanup()]);
  });

  it("publishes the event exactly once after a restart", async () => {
    // The relay is off, so the process is guaranteed to die after the commit and before the publish.
    proc = await startRegistryProcess(env(false), { built: true });
    const created = await fetch(`${proc.url}/v1/namespaces`, {
      method: "POST",
      headers: { ...auth.headers, "content-type": "application/json" },
      body: JSON.stringify({ name: "crashy" }),
    });
    expect(created.status).toBe(201);
    const write = await put(proc.url, "/v1/namespaces/crashy/layers/production", { limit: 1 });
    expect(write.status).toBe(200);
    const { revision } = (await write.json()) as { revision: number };
    await proc.kill();

    const subject = `${nats.prefix}.config.changed.production.crashy`;
    expect((await subjectCounts())[subject] ?? 0).toBe(0);
    const pending = await db.pool.query("SELECT id FROM outbox WHERE published_at IS NULL");
    expect(pending.rowCount).toBe(1);

    proc = await startRegistryProcess(env(true), { built: true });
    expect(await waitForCount(subject, 1)).toBe(1);
    const after = await db.pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL");
    expect(after.rows[0].n).toBe(0);

    // Still one, well after the relay has settled.
    await new Promise((r) => setTimeout(r, 500));
    expect((await subjectCounts())[subject]).toBe(1);
    const jsm = await jetstreamManager(nats.nc);
    const msg = await jsm.streams.getMessage(nats.streams.events, { last_by_subj: subject });
    const event = msg!.json<CloudEvent<{ revision: number }>>();
    expect(event.data.revision).toBe(revision);
    expect(msg!.header.get("Nats-Msg-Id")).toBe(event.id);
    await proc.stop();
    proc = undefined;
  });

  it("does not duplicate an event that was published but not yet marked when the process died", async () => {
    proc = await startRegistryProcess(env(false), { built: true });
    const write = await put(proc.url, "/v1/namespaces/crashy/layers/staging", { limit: 2 });
    expect(write.status).toBe(200);
    await proc.kill();

    // What a relay that crashed between the PubAck and its UPDATE leaves behind.
    const row = await db.pool.query("SELECT subject, payload FROM outbox WHERE published_at IS NULL");
    expect(row.rowCount).toBe(1);
    await nats.bus.publishEnvelope(row.rows[0].subject, row.rows[0].payload);
    const subject = `${nats.prefix}.config.changed.staging.crashy`;
    expect((await subjectCounts())[subject]).toBe(1);

    proc = await startRegistryProcess(env(true), { built: true });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const left = await db.pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL");
      if (left.rows[0].n === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await subjectCounts())[subject]).toBe(1);
  });
});
