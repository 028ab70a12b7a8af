import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectConfig, NexusConfigError } from "../../src/index.js";
import {
  type Harness,
  inject,
  recordAcks,
  resolvedNow,
  signal,
  startListeningRegistry,
  startProxy,
  writeLayer,
} from "./support.js";

describe("reading without push, and over NATS only", () => {
  let h: Harness;
  let url: string;

  beforeAll(async () => {
    ({ h, url } = await startListeningRegistry());
    for (const name of ["polled", "nats-only"]) {
      await inject(h, { method: "POST", url: "/v1/namespaces", payload: { name } });
      await writeLayer(h, name, "base", { retries: 1 });
    }
  });
  afterAll(async () => h?.close());

  it("without NATS, polls over HTTP and applies a change", async () => {
    const cfg = await connectConfig({
      namespace: "polled",
      environment: "staging",
      service: "poller",
      url,
      token: h.adminToken,
      pollIntervalMs: 200,
    });
    try {
      expect(cfg.get()).toEqual({ retries: 1 });
      const seen = signal<{ next: unknown; paths: string[] }>();
      cfg.on("change", (next, _prev, paths) => seen.resolve({ next, paths }));
      await writeLayer(h, "polled", "staging", { retries: 2 });
      expect(await seen.promise).toEqual({ next: { retries: 2 }, paths: ["/retries"] });
      await cfg.refresh(); // the apply is over once a later sync has run
      expect(cfg.get()).toEqual({ retries: 2 });
      expect(cfg.hash).toBe((await resolvedNow(h, "polled", "staging")).hash);
    } finally {
      await cfg.close();
    }
  });

  it("with NATS only (no url), reads through the request/reply command and still gets pushes and acks", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "nats-only");
    const cfg = await connectConfig({
      namespace: "nats-only",
      environment: "production",
      service: "nats-reader",
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: h.nats.prefix,
    });
    try {
      const initial = await resolvedNow(h, "nats-only");
      expect({ content: cfg.get(), revision: cfg.revision, hash: cfg.hash }).toEqual({
        content: { retries: 1 },
        revision: initial.revision,
        hash: initial.hash,
      });
      await writeLayer(h, "nats-only", "production", { retries: 9 });
      const now = await resolvedNow(h, "nats-only");
      await acks.waitFor((a) => a.hash === now.hash && a.status === "applied", "ack over NATS-only");
      expect(cfg.get()).toEqual({ retries: 9 });
    } finally {
      acks.stop();
      await cfg.close();
    }
  });

  it("starts over HTTP when NATS is down, and attaches once NATS comes up: catches up and acks", async () => {
    const natsProxy = await startProxy(Number(new URL(TEST_NATS_URL).port || 4222));
    await natsProxy.down(); // a port where NATS will appear later
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "polled", "production");
    const started = Date.now();
    const cfg = await connectConfig({
      namespace: "polled",
      environment: "production",
      service: "late-nats",
      instanceId: "late-1",
      url,
      token: h.adminToken,
      nats: { servers: natsProxy.url.replace("http://", ""), reconnectTimeWait: 100 },
      subjectPrefix: h.nats.prefix,
    });
    try {
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(cfg.source).toBe("live");
      expect(acks.messages).toEqual([]);
      // A change the client cannot hear about: no push yet, and with NATS configured it polls rarely.
      await writeLayer(h, "polled", "production", { retries: 100 });
      await natsProxy.up();
      // Once the connection is up, the client subscribes and catches up on what it missed.
      const now = await resolvedNow(h, "polled");
      const ack = await acks.waitFor(
        (a) => a.instanceId === "late-1" && a.hash === now.hash,
        "ack after NATS came up",
      );
      expect(ack).toMatchObject({ status: "applied", source: "live" });
    } finally {
      acks.stop();
      await cfg.close();
      await natsProxy.close();
    }
  });

  it("refuses an unknown namespace or environment with a clear code, over HTTP and over NATS", async () => {
    const base = { environment: "production", service: "x", startTimeoutMs: 1_000 };
    await expect(
      connectConfig({ ...base, namespace: "ghost", url, token: h.adminToken }),
    ).rejects.toMatchObject({
      name: "NexusConfigError",
      code: "namespace_not_found",
      statusCode: 404,
    });
    await expect(
      connectConfig({ ...base, namespace: "polled", environment: "moon", url, token: h.adminToken }),
    ).rejects.toMatchObject({
      code: "environment_not_found",
    });
    const overNats = connectConfig({
      ...base,
      namespace: "ghost",
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: h.nats.prefix,
    });
    await expect(overNats).rejects.toBeInstanceOf(NexusConfigError);
    await expect(overNats).rejects.toMatchObject({ code: "namespace_not_found" });
  });

  it("refuses bad options before touching the network", async () => {
    await expect(
      connectConfig({ namespace: "polled", environment: "production", service: "x" }),
    ).rejects.toMatchObject({ code: "invalid_options", field: "url" });
  });
});
