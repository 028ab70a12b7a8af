import { CONFIG_CHANGED, type ConfigChanged, ConfigSetReply, configSetSubject } from "@nexus/contracts";
import type { EventOf } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

/** Collect config.changed events from a durable JetStream consumer, as a real consumer would. */
async function consumeChanges(h: Harness, durable: string) {
  const received: EventOf<typeof CONFIG_CHANGED>[] = [];
  const consumption = await h.nats.bus.consume(
    CONFIG_CHANGED,
    { durable, deliverPolicy: "new" },
    async (event) => {
      received.push(event);
    },
  );
  const waitFor = async (n: number, timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (received.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (received.length < n) throw new Error(`expected ${n} config.changed events, got ${received.length}`);
    return received.slice(0, n);
  };
  return { received, waitFor, stop: () => consumption.stop() };
}

describe("config.changed events", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "payments-api" });
  });
  afterAll(async () => h?.close());

  it("publishes one event per affected environment on nexus.config.changed.<env>.<ns>", async () => {
    const sub = await consumeChanges(h, "base-fanout");
    const write = await call(
      h,
      "PUT",
      "/v1/namespaces/payments-api/layers/base",
      { timeout: 5 },
      {
        authorization: `Bearer ${await h.tokenFor(["admin"], { owner: "carol" })}`,
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    );
    const events = await sub.waitFor(3);
    await sub.stop();
    const byEnv = Object.fromEntries(events.map((e) => [e.data.environment, e]));
    expect(Object.keys(byEnv).sort()).toEqual(["development", "production", "staging"]);
    const prod = byEnv.production!;
    expect(prod.specversion).toBe("1.0");
    expect(prod.type).toBe("nexus.config.changed");
    expect(prod.data).toMatchObject<Partial<ConfigChanged>>({
      namespace: "payments-api",
      revision: write.body.revision,
      previousRevision: 0,
      layer: "base",
      changedPaths: ["/timeout"],
      trigger: "write",
      actor: "carol",
      source: "api",
    });
    const resolved = await call(h, "GET", "/v1/namespaces/payments-api/environments/production/resolved");
    expect(prod.data.hash).toBe(resolved.body.hash);
  });

  it("an overlay write publishes only for its environment; a masked base change publishes nothing there", async () => {
    await call(h, "PUT", "/v1/namespaces/payments-api/layers/production", { timeout: 30 });
    await h.registry.relay.drain(); // that event is out before we start listening
    const sub = await consumeChanges(h, "overlay-only");
    await call(h, "PUT", "/v1/namespaces/payments-api/layers/base", { timeout: 7 });
    const events = await sub.waitFor(2);
    await new Promise((r) => setTimeout(r, 200));
    await sub.stop();
    expect(sub.received.map((e) => e.data.environment).sort()).toEqual(["development", "staging"]);
    expect(events.every((e) => e.data.previousHash !== e.data.hash)).toBe(true);
  });

  it("carries the writer's traceparent in the NATS headers", async () => {
    const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const seen: (string | undefined)[] = [];
    const consumption = await h.nats.bus.consume(
      CONFIG_CHANGED,
      {
        durable: "trace",
        deliverPolicy: "new",
        filterSubjects: ["nexus.config.changed.staging.payments-api"],
      },
      async (_e, ctx) => {
        seen.push(ctx.traceparent);
      },
    );
    await call(h, "PUT", "/v1/namespaces/payments-api/layers/staging", { trace: 1 }, { traceparent: tp });
    const deadline = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await consumption.stop();
    expect(seen[0]).toContain("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("accepts config set commands over NATS request/reply with the same validation", async () => {
    const ok = await h.nats.bus.requestCommand(
      configSetSubject({ layer: "development", namespace: "payments-api" }),
      {
        schemaVersion: 1,
        namespace: "payments-api",
        layer: "development",
        content: { via: "nats" },
        author: "svc-a",
      },
      ConfigSetReply,
    );
    expect(ok).toMatchObject({ ok: true, namespace: "payments-api", layer: "development" });
    const rev = await call(h, "GET", "/v1/namespaces/payments-api/layers/development");
    expect(rev.body.content).toEqual({ via: "nats" });
    const history = await call(h, "GET", "/v1/namespaces/payments-api/layers/development/revisions");
    expect(history.body.items[0]).toMatchObject({ source: "nats", author: "svc-a" });
    // Its audit line was committed with the revision (same transaction), not buffered.
    const audited = await h.db.pool.query(
      `SELECT a.actor, a.action, a.outcome, a.details->>'subject' AS subject FROM audit_log a
         JOIN revisions r ON r.xmin = a.xmin AND r.namespace = 'payments-api' AND r.layer = 'development'
        WHERE a.resource = '/v1/namespaces/payments-api/layers/development'`,
    );
    expect(audited.rows).toEqual([
      {
        actor: "nats:svc-a",
        action: "config.cmd.set",
        outcome: "allowed",
        subject: `${h.nats.prefix}.config.cmd.set.development.payments-api`,
      },
    ]);

    const stale = await h.nats.bus.requestCommand(
      configSetSubject({ layer: "development", namespace: "payments-api" }),
      {
        schemaVersion: 1,
        namespace: "payments-api",
        layer: "development",
        content: { via: "stale" },
        author: "svc-a",
        expectedRevision: 1,
      },
      ConfigSetReply,
    );
    expect(stale).toMatchObject({ ok: false, error: { statusCode: 409, code: "revision_conflict" } });

    const invalid = await h.nats.bus.requestCommand(
      configSetSubject({ layer: "base", namespace: "payments-api" }),
      { schemaVersion: 1, namespace: "Bad Name", layer: "base", content: {}, author: "svc-a" },
      ConfigSetReply,
    );
    expect(invalid).toMatchObject({ ok: false, error: { statusCode: 400, field: "namespace" } });
    const unknownEnv = await h.nats.bus.requestCommand(
      configSetSubject({ layer: "moon", namespace: "payments-api" }),
      { schemaVersion: 1, namespace: "payments-api", layer: "moon", content: {}, author: "svc-a" },
      ConfigSetReply,
    );
    expect(unknownEnv).toMatchObject({
      ok: false,
      error: { statusCode: 404, code: "environment_not_found" },
    });
  });

  it("publishes nothing for a refused write", async () => {
    await h.registry.relay.drain();
    const sub = await consumeChanges(h, "refused");
    await call(h, "PUT", "/v1/namespaces/payments-api/layers/base", { bad: "${ref:missing}" });
    await new Promise((r) => setTimeout(r, 300));
    await sub.stop();
    expect(sub.received).toHaveLength(0);
    const pending = await h.db.pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL");
    expect(pending.rows[0].n).toBe(0);
  });

  it("commits a layer change that leaves every resolved document as it was, without an event", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "same-resolved" });
    await call(h, "PUT", "/v1/namespaces/same-resolved/layers/base", { timeout: 5 });
    await h.registry.relay.drain();
    const before = await call(h, "GET", "/v1/namespaces/same-resolved/environments/production/resolved");
    const sub = await consumeChanges(h, "same-resolved");
    // The overlay says what the base already says: a new revision, no new resolved document.
    const same = await call(h, "PUT", "/v1/namespaces/same-resolved/layers/production", { timeout: 5 });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ changed: true, changedEnvironments: [] });
    // The next write goes on from the one that changed nothing resolved, and is announced.
    const next = await call(h, "PUT", "/v1/namespaces/same-resolved/layers/production", { timeout: 6 });
    expect(next.body).toMatchObject({
      revision: same.body.revision + 1,
      changedEnvironments: ["production"],
    });
    const [event] = await sub.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    await sub.stop();
    expect(sub.received).toHaveLength(1);
    expect(event!.data).toMatchObject({ revision: next.body.revision, previousHash: before.body.hash });
    const layer = await h.db.pool.query(
      "SELECT revision FROM layers WHERE namespace = 'same-resolved' AND layer = 'production'",
    );
    expect(layer.rows[0].revision).toBe(next.body.revision);
  });
});
