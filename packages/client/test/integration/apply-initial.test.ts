/**
 * `applyInitial` and `onChange`: the first config is put to work before it is acked (the nexus
 * agent renders its files there), and a change announced meanwhile waits for it.
 */
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectConfig } from "../../src/index.js";
import {
  type Harness,
  inject,
  recordAcks,
  recordHeartbeats,
  startListeningRegistry,
  startProxy,
  writeLayer,
} from "./support.js";

describe("putting the first config to work before it is acked", () => {
  let h: Harness;
  let url: string;
  const options = (namespace: string, instanceId: string) => ({
    namespace,
    environment: "production",
    service: "renderer",
    instanceId,
    url,
    token: h.adminToken,
    nats: { servers: TEST_NATS_URL },
    subjectPrefix: h.nats.prefix,
  });

  beforeAll(async () => {
    ({ h, url } = await startListeningRegistry());
    for (const name of ["first-refused", "first-slow", "first-late-nats"]) {
      await inject(h, { method: "POST", url: "/v1/namespaces", payload: { name } });
      await writeLayer(h, name, "base", { mode: "v1" });
    }
  });
  afterAll(async () => h?.close());

  it("a refused first config fails start-up with initial_rejected and is acked rejected with the reason", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "first-refused");
    await expect(
      connectConfig({
        ...options("first-refused", "refused-1"),
        applyInitial: () => {
          throw new Error("validate: nginx -t failed");
        },
      }),
    ).rejects.toMatchObject({ code: "initial_rejected" });
    const ack = await acks.waitFor((a) => a.instanceId === "refused-1", "the rejected ack");
    expect(ack).toMatchObject({
      status: "rejected",
      trigger: "initial",
      reason: "validate: nginx -t failed",
    });
    acks.stop();
  });

  it("a change announced while the first config is applied reaches onChange after the initial ack", async () => {
    const acks = recordAcks(h.nats.nc, h.nats.prefix, "first-slow");
    const seen: string[] = [];
    let written = 0;
    const cfg = await connectConfig({
      ...options("first-slow", "slow-1"),
      applyInitial: async (value) => {
        seen.push(`initial ${value.mode}`);
        written = (await writeLayer(h, "first-slow", "production", { mode: "v2" })).revision;
        await new Promise((r) => setTimeout(r, 300)); // the announcement arrives meanwhile
      },
      onChange: (next) => void seen.push(`change ${next.mode}`),
    });
    try {
      const changed = await acks.waitFor(
        (a) => a.instanceId === "slow-1" && a.revision === written,
        "change ack",
      );
      expect(changed).toMatchObject({ status: "applied", trigger: "change" });
      expect(seen).toEqual(["initial v1", "change v2"]);
      const mine = acks.messages.filter((a) => a.instanceId === "slow-1");
      expect(mine.map((a) => a.trigger)).toEqual(["initial", "change"]);
      expect(cfg.get()).toEqual({ mode: "v2" });
    } finally {
      acks.stop();
      await cfg.close();
    }
  });

  it("a NATS connection that comes up while the first config is applied is attached", async () => {
    const natsProxy = await startProxy(Number(new URL(TEST_NATS_URL).port || 4222));
    await natsProxy.down();
    const beats = recordHeartbeats(h.nats.nc, h.nats.prefix, "first-late-nats");
    const cfg = await connectConfig({
      ...options("first-late-nats", "late-nats-1"),
      nats: { servers: natsProxy.url.replace("http://", ""), reconnectTimeWait: 100 },
      heartbeatSeconds: 1,
      applyInitial: async () => {
        await natsProxy.up();
        await new Promise((r) => setTimeout(r, 1_500)); // NATS connects meanwhile
      },
    });
    try {
      const beat = await beats.waitFor(
        (b) => b.instanceId === "late-nats-1",
        "a heartbeat over the late connection",
      );
      expect(beat).toMatchObject({ status: "live", hash: cfg.hash });
    } finally {
      beats.stop();
      await cfg.close();
      await natsProxy.close();
    }
  });
});
