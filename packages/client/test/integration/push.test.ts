import { parsePrometheusText, TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectConfig, type NexusConfig } from "../../src/index.js";
import {
  type Harness,
  inject,
  recordAcks,
  recordHeartbeats,
  resolvedNow,
  signal,
  startListeningRegistry,
  writeLayer,
} from "./support.js";

const Shape = z.object({
  database: z.object({ host: z.string(), pool: z.number().int().positive() }),
  feature: z.object({ checkout: z.boolean() }).optional(),
});
type Shape = z.infer<typeof Shape>;

describe("SDK with NATS push against the real registry", () => {
  let h: Harness;
  let url: string;
  const memoryHitsNow = async () => {
    const res = await h.registry.app.inject({ method: "GET", url: "/metrics" });
    return (
      parsePrometheusText(res.body).value("nexus_config_cache_lookups_total", {
        cache: "memory",
        result: "hit",
      }) ?? 0
    );
  };
  const clients: NexusConfig<unknown>[] = [];
  const connect = async <T>(
    options: Partial<Parameters<typeof connectConfig<T>>[0]> & { namespace: string },
  ) => {
    const cfg = await connectConfig<T>({
      environment: "production",
      service: "checkout",
      url,
      token: h.adminToken,
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: h.nats.prefix,
      ...options,
    });
    clients.push(cfg as NexusConfig<unknown>);
    return cfg;
  };

  beforeAll(async () => {
    ({ h, url } = await startListeningRegistry());
    for (const name of ["shop", "rejects", "beats"]) {
      await inject(h, {
        method: "POST",
        url: "/v1/namespaces",
        payload: { name, variables: { HOST: "db1" } },
      });
      await writeLayer(h, name, "base", { database: { host: "${env:HOST}", pool: 10 } });
    }
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => h?.close());

  it("loads the resolved config, typed by the schema, and acks the initial load", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "shop");
    const cfg = await connect<Shape>({ namespace: "shop", schema: Shape, instanceId: "shop-1" });
    const registry = await resolvedNow(h, "shop");
    expect(cfg.get()).toEqual({ database: { host: "db1", pool: 10 } });
    expect(cfg.get().database.pool).toBe(10);
    expect({ revision: cfg.revision, hash: cfg.hash, source: cfg.source }).toEqual({
      revision: registry.revision,
      hash: registry.hash,
      source: "live",
    });
    const ack = await acks.waitFor((a) => a.trigger === "initial", "initial ack");
    expect(ack).toMatchObject({
      service: "checkout",
      instanceId: "shop-1",
      namespace: "shop",
      environment: "production",
      revision: registry.revision,
      hash: registry.hash,
      status: "applied",
      source: "live",
    });
    acks.stop();
  });

  it("a pushed change reaches the handler with the changed paths, then is acked and adopted", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "shop");
    const cfg = await connect<Shape>({ namespace: "shop", schema: Shape });
    const seen = signal<{ next: Shape; prev: Shape; paths: string[]; during: Shape }>();
    cfg.on("change", (next, prev, paths) => seen.resolve({ next, prev, paths, during: cfg.get() }));

    const memoryHits = await memoryHitsNow();
    await writeLayer(h, "shop", "production", { database: { pool: 40 }, feature: { checkout: true } });
    const change = await seen.promise;
    // The SDK named the announced version (`Nexus-Awaited`): the registry answered its conditional
    // read from memory, where the write had put that version (without it: Redis, no memory lookup).
    expect(await memoryHitsNow()).toBeGreaterThan(memoryHits);
    expect(change.prev).toEqual({ database: { host: "db1", pool: 10 } });
    expect(change.next).toEqual({ database: { host: "db1", pool: 40 }, feature: { checkout: true } });
    expect(change.paths).toEqual(["/database/pool", "/feature/checkout"]);
    expect(change.during).toEqual(change.prev); // not adopted until the handler is done

    const registry = await resolvedNow(h, "shop");
    const ack = await acks.waitFor((a) => a.hash === registry.hash, "ack of the change");
    expect(ack).toMatchObject({ status: "applied", trigger: "change", revision: registry.revision });
    expect(cfg.get()).toEqual(change.next);
    expect(cfg.revision).toBe(registry.revision);
    acks.stop();
  });

  it("a variables change (same revision, new hash) is applied too", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "shop");
    const cfg = await connect<Shape>({ namespace: "shop", schema: Shape });
    const before = cfg.revision;
    const seen = signal<string[]>();
    cfg.on("change", (_n, _p, paths) => seen.resolve(paths));
    const patch = await inject(h, {
      method: "PATCH",
      url: "/v1/namespaces/shop",
      payload: { variables: { HOST: "db2" } },
    });
    expect(patch.statusCode).toBe(200);
    expect(await seen.promise).toEqual(["/database/host"]);
    const registry = await resolvedNow(h, "shop");
    await acks.waitFor((a) => a.hash === registry.hash, "ack of the variables change");
    expect(cfg.get().database.host).toBe("db2");
    expect(registry.revision).toBe(before);
    expect(cfg.revision).toBe(before);
    expect(cfg.hash).toBe(registry.hash);
    acks.stop();
  });

  it("a handler that throws rejects the config: the old one stays and the ack says rejected, with the reason", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "rejects");
    const cfg = await connect<Shape>({ namespace: "rejects", schema: Shape });
    const original = cfg.get();
    const originalHash = cfg.hash;
    cfg.on("change", (next) => {
      if (next.database.pool > 100) throw new Error("pool too large for this host");
    });

    await writeLayer(h, "rejects", "production", { database: { pool: 500 } });
    const refused = await resolvedNow(h, "rejects");
    const ack = await acks.waitFor((a) => a.hash === refused.hash, "rejected ack");
    expect(ack).toMatchObject({
      status: "rejected",
      reason: "pool too large for this host",
      trigger: "change",
    });
    expect(cfg.get()).toEqual(original);
    expect(cfg.hash).toBe(originalHash);
    expect(cfg.lastRejected).toMatchObject({ revision: refused.revision, hash: refused.hash });

    // A config that breaks the schema never reaches the handler, and is refused the same way.
    await writeLayer(h, "rejects", "production", { database: { pool: -1 } });
    const invalid = await resolvedNow(h, "rejects");
    const schemaAck = await acks.waitFor((a) => a.hash === invalid.hash, "schema rejection");
    expect(schemaAck).toMatchObject({ status: "rejected" });
    expect(schemaAck.status === "rejected" && schemaAck.reason).toMatch(/^schema: \/database\/pool/);

    // Writing back what runs: same content under a newer revision. Nothing reaches the handler,
    // and the instance reports the new revision (else it would look like drift).
    let handlerCalls = 0;
    const count = () => void handlerCalls++;
    cfg.on("change", count);
    await writeLayer(h, "rejects", "production", { database: { pool: 10 } });
    const back = await resolvedNow(h, "rejects");
    expect(back.hash).toBe(originalHash);
    const backAck = await acks.waitFor((a) => a.revision === back.revision, "ack of the write-back");
    expect(backAck).toMatchObject({ status: "applied", hash: originalHash, trigger: "change" });
    expect(cfg.revision).toBe(back.revision);
    expect(cfg.lastRejected).toBeUndefined();
    expect(handlerCalls).toBe(0);
    cfg.off("change", count);

    // The next acceptable config is applied.
    await writeLayer(h, "rejects", "production", { database: { pool: 20 } });
    const good = await resolvedNow(h, "rejects");
    await acks.waitFor((a) => a.hash === good.hash && a.status === "applied", "applied ack");
    expect(cfg.get().database.pool).toBe(20);
    expect(cfg.lastRejected).toBeUndefined();
    acks.stop();
  });

  it("sends heartbeats with the revision and hash in use, and a last one when it stops", async () => {
    const beats = recordHeartbeats(h.nats.nc, h.nats.prefix, "beats");
    const cfg = await connect({ namespace: "beats", heartbeatSeconds: 1, instanceId: "beats-1" });
    const first = await beats.waitFor((b) => b.instanceId === "beats-1", "first heartbeat");
    expect(first).toMatchObject({
      service: "checkout",
      revision: cfg.revision,
      hash: cfg.hash,
      status: "live",
      intervalSeconds: 1,
      sdkVersion: "0.1.0",
    });
    const second = await beats.waitFor(
      (b) => b.instanceId === "beats-1" && b !== first,
      "second heartbeat",
      5_000,
    );
    expect(second.startedAt).toBe(first.startedAt);

    await writeLayer(h, "beats", "production", { database: { pool: 11 } });
    const now = await resolvedNow(h, "beats");
    await beats.waitFor((b) => b.hash === now.hash, "heartbeat with the new hash", 5_000);

    await clients.pop()!.close();
    await beats.waitFor((b) => b.instanceId === "beats-1" && b.status === "stopping", "stopping heartbeat");
    beats.stop();
  });
});
