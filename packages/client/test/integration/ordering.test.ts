import type { Msg } from "@nats-io/transport-node";
import { createTestBus, TEST_NATS_URL, type TestBus } from "@nexus/test-fixtures";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connectConfig, type NexusConfig } from "../../src/index.js";
import {
  type Harness,
  inject,
  recordAcks,
  recordingLogger,
  resolvedNow,
  startListeningRegistry,
  writeLayer,
} from "./support.js";

/**
 * The client listens on its own prefix; the test decides which of the registry's config.changed
 * messages reach it, and when: a lossy, reordering network between the bus and the client, with
 * the real registry behind it for reads.
 */
describe("order, gaps and resync", () => {
  let h: Harness;
  let url: string;
  let clientBus: TestBus;
  const held: Msg[] = [];
  /** What to do with the next messages, in order; once empty, forward. */
  const plan: ("drop" | "hold")[] = [];
  let heldChanged: () => void = () => undefined;
  const waitHeld = (n: number) =>
    new Promise<void>((resolve) => {
      heldChanged = () => {
        if (held.length >= n) resolve();
      };
      heldChanged();
    });
  let cfg: NexusConfig<Record<string, unknown>>;
  const logger = recordingLogger();
  const calls: { next: Record<string, unknown>; paths: string[] }[] = [];

  /** Hashes of every config.changed the forwarder has seen, so a test knows the pipe is idle. */
  const passed = new Set<string>();
  let passedChanged: () => void = () => undefined;
  const forwarderSaw = (hash: string) =>
    new Promise<void>((resolve) => {
      passedChanged = () => {
        if (passed.has(hash)) resolve();
      };
      passedChanged();
    });

  const forward = (m: Msg) =>
    clientBus.nc.publish(m.subject.replace(`${h.nats.prefix}.`, `${clientBus.prefix}.`), m.data);

  beforeAll(async () => {
    ({ h, url } = await startListeningRegistry());
    clientBus = await createTestBus();
    h.nats.nc.subscribe(`${h.nats.prefix}.config.changed.production.orders`, {
      callback: (_err, m) => {
        passed.add((JSON.parse(m.string()) as { data: { hash: string } }).data.hash);
        passedChanged();
        const action = plan.shift();
        if (action === undefined) forward(m);
        else if (action === "hold") {
          held.push(m);
          heldChanged();
        }
      },
    });
    await inject(h, { method: "POST", url: "/v1/namespaces", payload: { name: "orders" } });
    await writeLayer(h, "orders", "base", { step: 0 });
    await forwarderSaw((await resolvedNow(h, "orders")).hash);
    cfg = await connectConfig({
      namespace: "orders",
      environment: "production",
      service: "orders-svc",
      instanceId: "orders-1",
      url,
      token: h.adminToken,
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: clientBus.prefix,
      logger,
    });
    cfg.on("change", (next, _prev, paths) => void calls.push({ next, paths }));
    // The client's own catch-up read after start-up is over: from here on it learns only from events.
    await cfg.refresh();
  });
  beforeEach(() => {
    plan.length = 0;
    held.length = 0;
    calls.length = 0;
  });
  afterAll(async () => {
    await cfg?.close();
    await clientBus?.cleanup();
    await h?.close();
  });

  /** Write, wait until its event went through the forwarder, return the registry's resolved position. */
  const write = async (content: Record<string, unknown>) => {
    await writeLayer(h, "orders", "production", content);
    const now = await resolvedNow(h, "orders");
    await forwarderSaw(now.hash);
    return now;
  };

  it("a missed event is noticed at the next one, which fetches the latest: both changes arrive in one apply", async () => {
    const acks = recordAcks(clientBus.nc, clientBus.prefix, "orders");
    plan.push("drop");
    const missed = await write({ step: 1, a: true });
    const latest = await write({ step: 2, a: true, b: true });
    const ack = await acks.waitFor((a) => a.hash === latest.hash, "ack of the latest");
    expect(ack).toMatchObject({ status: "applied", revision: latest.revision });
    expect(calls).toEqual([{ next: { step: 2, a: true, b: true }, paths: ["/a", "/b", "/step"] }]);
    expect(acks.messages.some((a) => a.hash === missed.hash)).toBe(false);
    const gap = logger.entries.find((e) => e.message.includes("missed at least one config.changed"));
    expect(gap?.fields).toMatchObject({ revision: latest.revision });
    acks.stop();
  });

  it("an event that arrives after a newer one is ignored: revisions never go backwards", async () => {
    const acks = recordAcks(clientBus.nc, clientBus.prefix, "orders");
    plan.push("hold", "hold");
    const older = await write({ step: 3 });
    const newer = await write({ step: 4 });
    await waitHeld(2);
    // deliver newest first, then the late one
    forward(held[1]!);
    await acks.waitFor((a) => a.hash === newer.hash, "ack of the newer");
    forward(held[0]!);
    // a sentinel change: once it is acked, the late event has been handled before it
    const sentinel = await write({ step: 5 });
    await acks.waitFor((a) => a.hash === sentinel.hash, "ack of the sentinel");
    expect(acks.messages.map((a) => a.revision)).toEqual([newer.revision, sentinel.revision]);
    expect(acks.messages.some((a) => a.hash === older.hash)).toBe(false);
    expect(calls.map((c) => c.next.step)).toEqual([4, 5]);
    expect(cfg.get()).toEqual({ step: 5 });
    acks.stop();
  });

  it("a resync command makes the instance re-fetch and ack again; one for another instance is ignored", async () => {
    const acks = recordAcks(clientBus.nc, clientBus.prefix, "orders");
    const subject = `${clientBus.prefix}.instance.resync.production.orders`;
    const command = {
      schemaVersion: 1,
      namespace: "orders",
      environment: "production",
      requestedBy: "drift-detector",
    };
    clientBus.nc.publish(
      subject,
      JSON.stringify({ ...command, instanceId: "someone-else", requestId: "r-other" }),
    );
    clientBus.nc.publish(subject, JSON.stringify({ ...command, requestId: "r-all" }));
    const ack = await acks.waitFor((a) => a.resyncRequestId === "r-all", "resync ack");
    expect(ack).toMatchObject({
      status: "applied",
      trigger: "resync",
      hash: cfg.hash,
      revision: cfg.revision,
    });
    clientBus.nc.publish(
      subject,
      JSON.stringify({ ...command, instanceId: "orders-1", requestId: "r-mine" }),
    );
    await acks.waitFor((a) => a.resyncRequestId === "r-mine", "targeted resync ack");
    expect(acks.messages.map((a) => a.resyncRequestId)).toEqual(["r-all", "r-mine"]);
    expect(calls).toEqual([]); // nothing changed, so nothing to hand to the application
    acks.stop();
  });

  it("a resync offers a refused config again, and re-applies what the registry has while events were lost", async () => {
    const acks = recordAcks(clientBus.nc, clientBus.prefix, "orders");
    let refuse = true;
    const guard = () => {
      if (refuse) throw new Error("not now");
    };
    cfg.on("change", guard);
    try {
      const refused = await write({ step: 6 });
      await acks.waitFor((a) => a.hash === refused.hash && a.status === "rejected", "rejection");
      refuse = false;
      const subject = `${clientBus.prefix}.instance.resync.production.orders`;
      clientBus.nc.publish(
        subject,
        JSON.stringify({
          schemaVersion: 1,
          namespace: "orders",
          environment: "production",
          requestedBy: "ops",
          requestId: "r-retry",
        }),
      );
      const ack = await acks.waitFor((a) => a.resyncRequestId === "r-retry", "resync ack");
      expect(ack).toMatchObject({ status: "applied", trigger: "resync", hash: refused.hash });
      expect(cfg.get()).toEqual({ step: 6 });

      // Events lost entirely (not even a later one arrives): a resync alone brings the instance up to date.
      plan.push("drop");
      const silent = await write({ step: 7 });
      clientBus.nc.publish(
        subject,
        JSON.stringify({
          schemaVersion: 1,
          namespace: "orders",
          environment: "production",
          requestedBy: "ops",
          requestId: "r-lost",
        }),
      );
      const caught = await acks.waitFor((a) => a.resyncRequestId === "r-lost", "resync after loss");
      expect(caught).toMatchObject({ status: "applied", hash: silent.hash, revision: silent.revision });
      expect(cfg.get()).toEqual({ step: 7 });
    } finally {
      cfg.off("change", guard);
      acks.stop();
    }
  });
});
