import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectConfig } from "../../src/index.js";
import {
  type Harness,
  inject,
  recordAcks,
  recordHeartbeats,
  resolvedNow,
  startListeningRegistry,
  startProxy,
  tempDir,
  writeLayer,
} from "./support.js";

describe("last-known-good cache", () => {
  let h: Harness;
  let port: number;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const options = (namespace: string, cacheFile: string) => ({
    namespace,
    environment: "production",
    service: "lkg-service",
    url: proxy.url,
    token: h.adminToken,
    nats: { servers: TEST_NATS_URL },
    subjectPrefix: h.nats.prefix,
    cacheFile,
    requestTimeoutMs: 1_000,
  });

  beforeAll(async () => {
    ({ h, port } = await startListeningRegistry());
    proxy = await startProxy(port);
    dir = await tempDir();
    for (const name of ["lkg", "lkg-same", "lkg-schema"]) {
      await inject(h, { method: "POST", url: "/v1/namespaces", payload: { name } });
      await writeLayer(h, name, "base", { mode: "v1", limit: 5 });
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await dir?.remove();
    await h?.close();
  });

  it("keeps the applied config on disk (mode 0600, replaced atomically, no temporary files left)", async () => {
    const file = join(dir.path, "nested", "lkg.json");
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "lkg");
    const cfg = await connectConfig(options("lkg", file));
    try {
      const first = JSON.parse(await readFile(file, "utf8"));
      expect(first).toMatchObject({
        namespace: "lkg",
        revision: cfg.revision,
        hash: cfg.hash,
        content: cfg.get(),
      });
      expect((await stat(file)).mode & 0o777).toBe(0o600);

      await writeLayer(h, "lkg", "production", { mode: "v2" });
      const now = await resolvedNow(h, "lkg");
      await acks.waitFor((a) => a.hash === now.hash, "ack of v2");
      const second = JSON.parse(await readFile(file, "utf8"));
      expect(second).toMatchObject({
        revision: now.revision,
        hash: now.hash,
        content: { mode: "v2", limit: 5 },
      });
      expect(await readdir(join(dir.path, "nested"))).toEqual(["lkg.json"]);
    } finally {
      acks.stop();
      await cfg.close();
    }
  });

  it("starts from the cache while Nexus is unreachable, reports it, and catches up when Nexus returns", async () => {
    const file = join(dir.path, "lkg.json");
    const warm = await connectConfig(options("lkg", file));
    const cached = { revision: warm.revision, hash: warm.hash, content: warm.get() };
    await warm.close();

    await proxy.down();
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "lkg");
    const beats = recordHeartbeats(h.nats.nc, h.nats.prefix, "lkg");
    const cfg = await connectConfig({ ...options("lkg", file), heartbeatSeconds: 1, instanceId: "lkg-cold" });
    try {
      expect({ source: cfg.source, revision: cfg.revision, hash: cfg.hash, content: cfg.get() }).toEqual({
        source: "cache",
        ...cached,
      });
      const initial = await acks.waitFor((a) => a.instanceId === "lkg-cold", "initial ack from cache");
      expect(initial).toMatchObject({
        status: "applied",
        source: "cache",
        trigger: "initial",
        hash: cached.hash,
      });
      await beats.waitFor(
        (b) => b.instanceId === "lkg-cold" && b.status === "cache",
        "heartbeat saying cache",
      );

      // Nexus moves on while this instance cannot reach it.
      await writeLayer(h, "lkg", "production", { mode: "v3" });
      const latest = await resolvedNow(h, "lkg");
      expect(cfg.get()).toEqual(cached.content);

      await proxy.up();
      const caughtUp = await acks.waitFor(
        (a) => a.instanceId === "lkg-cold" && a.hash === latest.hash,
        "ack after catching up",
        15_000,
      );
      expect(caughtUp).toMatchObject({ status: "applied", source: "live", trigger: "recovered" });
      expect(cfg.source).toBe("live");
      expect(cfg.get()).toEqual({ mode: "v3", limit: 5 });
      await beats.waitFor((b) => b.instanceId === "lkg-cold" && b.status === "live", "heartbeat saying live");
    } finally {
      acks.stop();
      beats.stop();
      await proxy.up().catch(() => undefined);
      await cfg.close();
    }
  });

  it("returning to a Nexus that still has the cached config goes live without re-applying", async () => {
    const file = join(dir.path, "same.json");
    await (await connectConfig(options("lkg-same", file))).close();
    await proxy.down();
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "lkg-same");
    const cfg = await connectConfig({ ...options("lkg-same", file), instanceId: "same-1" });
    let handlerCalls = 0;
    cfg.on("change", () => void handlerCalls++);
    try {
      expect(cfg.source).toBe("cache");
      await proxy.up();
      const back = await acks.waitFor(
        (a) => a.instanceId === "same-1" && a.trigger === "recovered",
        "recovered ack",
        15_000,
      );
      expect(back).toMatchObject({ status: "applied", source: "live", hash: cfg.hash });
      expect(cfg.source).toBe("live");
      expect(handlerCalls).toBe(0);
    } finally {
      acks.stop();
      await proxy.up().catch(() => undefined);
      await cfg.close();
    }
  });

  it("without a usable cache, gives up after startTimeoutMs with code unavailable", async () => {
    await proxy.down();
    try {
      const started = Date.now();
      await expect(
        connectConfig({ ...options("lkg", join(dir.path, "missing.json")), startTimeoutMs: 600 }),
      ).rejects.toMatchObject({ code: "unavailable" });
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);

      // A file that was edited (its content no longer matches its hash) is not trusted either.
      const file = join(dir.path, "tampered.json");
      const good = JSON.parse(await readFile(join(dir.path, "lkg.json"), "utf8"));
      await writeFile(file, JSON.stringify({ ...good, content: { ...good.content, mode: "hacked" } }));
      await expect(connectConfig({ ...options("lkg", file), startTimeoutMs: 300 })).rejects.toMatchObject({
        code: "unavailable",
      });
      // And a file of another namespace is never used for this one.
      await expect(
        connectConfig({ ...options("lkg-same", join(dir.path, "lkg.json")), startTimeoutMs: 300 }),
      ).rejects.toMatchObject({ code: "unavailable" });
    } finally {
      await proxy.up();
    }
  });

  it("refuses to start on a live config that fails the schema, and acks it as rejected", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "lkg-schema");
    const schema = z.object({ mode: z.enum(["v1", "v2"]), limit: z.number().max(3) });
    await expect(
      connectConfig({
        ...options("lkg-schema", join(dir.path, "schema.json")),
        schema,
        instanceId: "schema-1",
      }),
    ).rejects.toMatchObject({ code: "schema_validation_failed" });
    const ack = await acks.waitFor((a) => a.instanceId === "schema-1", "rejected initial ack");
    expect(ack).toMatchObject({ status: "rejected", trigger: "initial" });
    expect(ack.status === "rejected" && ack.reason).toMatch(/\/limit/);
    acks.stop();
  });
});
