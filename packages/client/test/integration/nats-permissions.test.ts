import type { NatsConnection } from "@nats-io/transport-node";
import { ConfigGetReply, configGetSubject } from "@nexus/contracts";
import { createBus, createLogger, streamNames } from "@nexus/kit";
import { natsServerBinary, type TestBus } from "@nexus/test-fixtures";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startRegistry } from "../../../../services/config-registry/test/integration/harness.js";
import { connectConfig, type NexusConfig } from "../../src/index.js";
import { type AuthNats, startAuthNats } from "./auth-nats-server.js";
import { type Harness, recordAcks, recordHeartbeats, writeLayer } from "./support.js";

/**
 * infra/nats/nats-server.auth.conf as shipped (users, permissions, bcrypt hashes in the
 * environment), on a nats-server of its own, with the real registry logged in as config-registry
 * and a consuming service logged in as payments-api.
 */
const binary = natsServerBinary();
if (!binary) {
  console.warn(
    "nats-permissions.test.ts skipped: no nats-server binary (/usr/sbin/nats-server or on PATH); scripts/ensure-infra.sh installs it",
  );
}

const PAYMENTS_INBOX = "_INBOX_payments-api";
const get = (environment: string, namespace: string) =>
  JSON.stringify({ schemaVersion: 1, namespace, environment });

/** Subscribing must be refused by the server (the iterator ends with a permissions error). */
async function subscribeRefusal(nc: NatsConnection, subject: string): Promise<string> {
  const sub = nc.subscribe(subject);
  const outcome = (async () => {
    try {
      for await (const _ of sub) return "received a message";
      return "subscription ended without an error";
    } catch (err) {
      return (err as Error).message;
    }
  })();
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve("no refusal within 3 s"), 3_000));
  return Promise.race([outcome, timeout]);
}

describe.skipIf(!binary)("NATS permissions of the shipped auth config (real nats-server)", () => {
  let server: AuthNats;
  let h: Harness;
  let pay: NatsConnection;
  const clients: NexusConfig<unknown>[] = [];

  beforeAll(async () => {
    server = await startAuthNats(binary!);
    const nc = await server.connectAs("config-registry");
    const logger = createLogger({ service: "nats-permissions-test", level: "silent" });
    const bus = createBus({ nc, prefix: "nexus", source: "nexus/config-registry", logger });
    await bus.ensureStreams(); // the JetStream API, as the registry user
    const ownBus: TestBus = {
      nc,
      bus,
      prefix: "nexus",
      streams: streamNames("nexus"),
      cleanup: async () => nc.close(),
    };
    h = await startRegistry({ nats: ownBus });
    for (const name of ["payments-api", "orders"]) {
      await h.registry.app.inject({
        method: "POST",
        url: "/v1/namespaces",
        payload: { name },
        headers: { authorization: `Bearer ${h.adminToken}` },
      });
      await writeLayer(h, name, "base", { owner: name, secret: `${name}-only` });
    }
    pay = await server.connectAs("payments-api", { inboxPrefix: PAYMENTS_INBOX });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await pay?.close();
    await h?.close();
    await server?.stop();
  });

  it("the SDK logged in as payments-api reads over NATS, hears its config.changed, and acks and beats", async () => {
    const acks = recordAcks(h.nats.nc, "nexus", "payments-api");
    const beats = recordHeartbeats(h.nats.nc, "nexus", "payments-api");
    const cfg = await connectConfig({
      namespace: "payments-api",
      environment: "production",
      service: "payments",
      nats: { servers: server.url },
      natsCredentials: { user: "payments-api", password: server.passwords.get("payments-api")! },
      natsInboxPrefix: PAYMENTS_INBOX,
      heartbeatSeconds: 1,
      startTimeoutMs: 5_000,
    });
    clients.push(cfg);
    expect(cfg.get()).toEqual({ owner: "payments-api", secret: "payments-api-only" });
    await acks.waitFor((a) => a.trigger === "initial", "the initial ack");

    const changed = new Promise((resolve) => cfg.on("change", (next) => resolve(next)));
    const write = await writeLayer(h, "payments-api", "production", { owner: "payments-team" });
    expect(await changed).toEqual({ owner: "payments-team", secret: "payments-api-only" });
    const ack = await acks.waitFor((a) => a.revision === write.revision, "the ack of the change");
    expect(ack).toMatchObject({ status: "applied", trigger: "change" });
    expect(cfg.get()).toMatchObject({ owner: "payments-team" });
    await beats.waitFor((b) => b.revision === write.revision, "a heartbeat");
    acks.stop();
    beats.stop();
  });

  it("the SDK logged in as payments-api cannot start on another namespace", async () => {
    const attempt = connectConfig({
      namespace: "orders",
      environment: "production",
      service: "payments",
      nats: { servers: server.url },
      natsCredentials: { user: "payments-api", password: server.passwords.get("payments-api")! },
      natsInboxPrefix: PAYMENTS_INBOX,
      startTimeoutMs: 1_000,
    });
    await expect(attempt).rejects.toMatchObject({ code: "unavailable" });
    await expect(attempt).rejects.toThrow(/Permissions Violation/);
  });

  it("refuses payments-api subscriptions to other namespaces, wildcards, the registry's commands and other inboxes", async () => {
    for (const subject of [
      "nexus.config.changed.production.orders",
      "nexus.config.changed.>",
      "nexus.instance.resync.production.orders",
      "nexus.config.cmd.get.>",
      "nexus.config.applied.production.payments-api",
      "_INBOX.>",
      "_INBOX_orders.>",
    ]) {
      expect(await subscribeRefusal(pay, subject), subject).toMatch(/Permissions Violation for Subscription/);
    }
  });

  it("drops what payments-api may not publish: a forged config.changed, another namespace's ack or heartbeat, a resync", async () => {
    const forged = [
      "nexus.config.changed.production.payments-api",
      "nexus.config.applied.production.orders",
      "nexus.instance.heartbeat.production.orders",
      "nexus.instance.resync.production.payments-api",
    ];
    const seen: string[] = [];
    const watcher = h.nats.nc.subscribe("nexus.>", { callback: (_e, m) => void seen.push(m.subject) });
    await h.nats.nc.flush();

    for (const subject of forged) pay.publish(subject, "forged");
    // Then something it may send: the server handles one client's messages in order, so once the
    // registry has seen this, it would have seen the others.
    const allowed = configGetSubject({ environment: "production", namespace: "payments-api" });
    const reply = await pay.request(allowed, get("production", "payments-api"), { timeout: 5_000 });
    expect(ConfigGetReply.parse(reply.json())).toMatchObject({ ok: true, namespace: "payments-api" });
    await h.nats.nc.flush();
    watcher.unsubscribe();
    expect(seen).toContain(allowed);
    expect(seen.filter((s) => forged.includes(s))).toEqual([]);
  });

  it("answers payments-api's read of its own namespace, refuses another namespace at the server and a mismatched body at the registry", async () => {
    const own = await pay.request(
      configGetSubject({ environment: "staging", namespace: "payments-api" }),
      get("staging", "payments-api"),
      {
        timeout: 5_000,
      },
    );
    expect(ConfigGetReply.parse(own.json())).toMatchObject({
      ok: true,
      content: { owner: "payments-api", secret: "payments-api-only" },
    });

    await expect(
      pay.request(
        configGetSubject({ environment: "staging", namespace: "orders" }),
        get("staging", "orders"),
        {
          timeout: 2_000,
        },
      ),
    ).rejects.toThrow(/Permissions Violation for Publish/);

    // Its own subject, another namespace in the body: the registry refuses, the content stays put.
    const smuggled = await pay.request(
      configGetSubject({ environment: "staging", namespace: "payments-api" }),
      get("staging", "orders"),
      {
        timeout: 5_000,
      },
    );
    const body = ConfigGetReply.parse(smuggled.json());
    expect(body).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "subject_mismatch", field: "namespace" },
    });
    expect(smuggled.string()).not.toContain("orders-only");
  });

  it("lets a Nexus service read any namespace, and refuses unknown users and wrong passwords", async () => {
    const drift = await server.connectAs("drift-detector");
    try {
      const reply = await drift.request(
        configGetSubject({ environment: "production", namespace: "orders" }),
        get("production", "orders"),
        {
          timeout: 5_000,
        },
      );
      expect(ConfigGetReply.parse(reply.json())).toMatchObject({ ok: true, content: { owner: "orders" } });
    } finally {
      await drift.close();
    }
    await expect(server.connectAs("payments-api", { pass: "not-the-password" })).rejects.toThrow(
      /Authorization/i,
    );
    await expect(server.connectAs("payments-api", { user: "nobody" })).rejects.toThrow(/Authorization/i);
  });
});
