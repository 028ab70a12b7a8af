import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED, eventTypes } from "@nexus/contracts";
import { collectEvents, createTestBus, type TestBus } from "@nexus/test-fixtures";
import { propagation } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type EventOf, EventRefusedError, InvalidEventError } from "../../src/bus/index.js";
import { changedEvent } from "./changed-event.js";

const changed = changedEvent;

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("typed bus", () => {
  let t: TestBus;
  let jsm: JetStreamManager;
  beforeAll(async () => {
    t = await createTestBus({ source: "nexus/bus-test" });
    jsm = await jetstreamManager(t.nc);
  });
  afterAll(async () => t?.cleanup());

  const streamCount = async (name: string) => (await jsm.streams.info(name)).state.messages;

  it("creates the streams idempotently, capturing event subjects only", async () => {
    await t.bus.ensureStreams();
    await t.bus.ensureStreams();
    const events = await jsm.streams.info(t.streams.events);
    // One `<type>.>` per catalog event, with the run's prefix instead of `nexus`; no command subjects.
    const expected = eventTypes.map((type) => `${t.prefix}${type.slice("nexus".length)}.>`).sort();
    expect(expected).toContain(`${t.prefix}.config.changed.>`);
    expect([...events.config.subjects].sort()).toEqual(expected);
    expect(events.config.subjects.some((s) => s.includes(".cmd."))).toBe(false);
    expect(events.config.duplicate_window).toBe(120 * 1e9);
    expect(events.config.storage).toBe("file");
    expect((await jsm.streams.info(t.streams.dlq)).config.subjects).toEqual([`${t.prefix}.dlq.>`]);
  });

  it("delivers a typed event from publish to a durable consumer", async () => {
    const seen: { event: EventOf<typeof CONFIG_CHANGED>; deliveryCount: number; subject: string }[] = [];
    const consumption = await t.bus.consume(CONFIG_CHANGED, { durable: "typed" }, (event, ctx) => {
      const revision: number = event.data.revision; // typed from the catalog
      expect(revision).toBe(7);
      seen.push({ event, deliveryCount: ctx.deliveryCount, subject: ctx.subject });
    });
    const { event, ack } = await t.bus.publish(CONFIG_CHANGED, changed({ revision: 7 }));
    await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 3_000 });
    await consumption.stop();

    expect(consumption.durables).toEqual(["typed-config-changed"]);
    expect(ack.stream).toBe(t.streams.events);
    expect(seen[0]!.deliveryCount).toBe(1);
    expect(seen[0]!.subject).toBe(`${t.prefix}.config.changed.production.payments-api`);
    expect(seen[0]!.event).toEqual(event);
    expect(event).toMatchObject({
      specversion: "1.0",
      type: CONFIG_CHANGED,
      source: "nexus/bus-test",
      subject: "payments-api/production",
      datacontenttype: "application/json",
    });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("refuses to publish an event that breaks its schema", async () => {
    const before = await streamCount(t.streams.events);
    await expect(t.bus.publish(CONFIG_CHANGED, changed({ namespace: "Not A Name" }))).rejects.toThrow(
      InvalidEventError,
    );
    await expect(t.bus.publish(CONFIG_CHANGED, changed({ revision: 0 }))).rejects.toThrow(/revision/);
    expect(await streamCount(t.streams.events)).toBe(before);
  });

  it("dead-letters poison messages at once and terms them, without blocking the consumer", async () => {
    const js = jetstream(t.nc);
    const subject = `${t.prefix}.config.changed.staging.poison`;
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.poison`, 2);
    const handled: string[] = [];
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "poison", deliverPolicy: "new" },
      (e) => {
        handled.push(e.data.namespace);
      },
    );
    await js.publish(subject, "this is not json");
    const badData = t.bus.envelope(CONFIG_CHANGED, changed());
    await js.publish(subject, JSON.stringify({ ...badData, data: { ...badData.data, hash: "nope" } }));
    await t.bus.publish(CONFIG_CHANGED, changed({ namespace: "after-poison" }));

    const letters = await dlq;
    await vi.waitFor(() => expect(handled).toEqual(["after-poison"]), { timeout: 3_000 });
    await consumption.stop();

    expect(letters[0]!.headers["Nexus-Dlq-Reason"]).toMatch(/^invalid_json: /);
    expect(letters[1]!.headers["Nexus-Dlq-Reason"]).toMatch(/^invalid_data: data\.hash/);
    expect(letters[1]!.headers["Nexus-Dlq-Event-Id"]).toBe(badData.id);
    expect(letters[0]!.headers).toMatchObject({
      "Nexus-Dlq-Consumer": "poison-config-changed",
      "Nexus-Dlq-Deliveries": "1",
      "Nexus-Dlq-Subject": subject,
    });
    const info = await jsm.consumers.info(t.streams.events, "poison-config-changed");
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
  });

  it("dead-letters at once what HTTP would refuse: bytes that are not UTF-8, NUL, lone surrogates, __proto__", async () => {
    const js = jetstream(t.nc);
    const subject = `${t.prefix}.config.changed.staging.unclean`;
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.unclean`, 4);
    const handled: string[] = [];
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "unclean", deliverPolicy: "new" },
      (e) => {
        handled.push(e.data.actor);
      },
    );
    const good = t.bus.envelope(
      CONFIG_CHANGED,
      changed({ namespace: "unclean", environment: "staging", actor: "ACTOR" }),
    );
    const text = JSON.stringify(good);
    await js.publish(
      subject,
      Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xff]), Buffer.from(text.slice(20))]),
    );
    await js.publish(subject, text.replace("ACTOR", "a\\u0000b"));
    await js.publish(subject, text.replace("ACTOR", "\\ud800"));
    await js.publish(subject, text.replace('"data":{', '"data":{"__proto__":{"x":1},'));
    await t.bus.publish(CONFIG_CHANGED, changed({ namespace: "unclean", actor: "after" }));

    const reasons = (await dlq).map((l) => String(l.headers["Nexus-Dlq-Reason"]).split(":")[0]);
    await vi.waitFor(() => expect(handled).toEqual(["after"]), { timeout: 3_000 });
    await consumption.stop();
    expect(reasons).toEqual(["invalid_json", "invalid_character", "invalid_character", "reserved_key"]);
  });

  it("dead-letters at once an event whose body names another target than its subject", async () => {
    const js = jetstream(t.nc);
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.authority`, 1);
    const handled: string[] = [];
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "authority", deliverPolicy: "new" },
      (e) => {
        handled.push(e.data.namespace);
      },
    );
    // Published on staging/billing, the body says production/payments-api.
    const spoofed = t.bus.envelope(CONFIG_CHANGED, changed());
    await js.publish(`${t.prefix}.config.changed.staging.billing`, JSON.stringify(spoofed));
    await t.bus.publish(CONFIG_CHANGED, changed({ namespace: "after-spoof" }));
    const [letter] = await dlq;
    await vi.waitFor(() => expect(handled).toEqual(["after-spoof"]), { timeout: 3_000 });
    await consumption.stop();
    expect(letter!.headers).toMatchObject({
      "Nexus-Dlq-Reason":
        "subject_mismatch: the body belongs on nexus.config.changed.production.payments-api, it came on nexus.config.changed.staging.billing",
      "Nexus-Dlq-Deliveries": "1",
      "Nexus-Dlq-Event-Id": spoofed.id,
    });
  });

  it("dead-letters at once an event its handler refuses, without retrying it", async () => {
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.refuser`, 1);
    let calls = 0;
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "refuser", deliverPolicy: "new", backoffMs: [50] },
      () => {
        calls++;
        throw new EventRefusedError("unknown_target", "no such namespace");
      },
    );
    const { event } = await t.bus.publish(CONFIG_CHANGED, changed());
    const [letter] = await dlq;
    await sleep(200); // a retry would show up here
    await consumption.stop();
    expect(calls).toBe(1);
    expect(letter!.headers).toMatchObject({
      "Nexus-Dlq-Reason": "unknown_target: no such namespace",
      "Nexus-Dlq-Deliveries": "1",
      "Nexus-Dlq-Event-Id": event.id,
    });
  });

  it("retries a failing handler with backoff, then dead-letters it after maxDeliver", async () => {
    const attempts: { n: number; at: number }[] = [];
    const dlq = collectEvents(t.nc, `${t.prefix}.dlq.flaky`, 1);
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "flaky", maxDeliver: 3, backoffMs: [150, 300], deliverPolicy: "new" },
      (_e, ctx) => {
        attempts.push({ n: ctx.deliveryCount, at: Date.now() });
        throw new Error("boom");
      },
    );
    const { event } = await t.bus.publish(CONFIG_CHANGED, changed(), { traceparent: TRACEPARENT });
    const [letter] = await dlq;
    await sleep(400); // a fourth delivery would show up here
    await consumption.stop();

    expect(attempts.map((a) => a.n)).toEqual([1, 2, 3]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(140);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(290);
    expect(letter!.event).toEqual(event); // the original bytes
    expect(letter!.headers).toMatchObject({
      "Nexus-Dlq-Reason": "handler_failed: boom",
      "Nexus-Dlq-Deliveries": "3",
      "Nexus-Dlq-Consumer": "flaky-config-changed",
      traceparent: TRACEPARENT,
    });
    expect(letter!.headers["Nats-Msg-Id"]).not.toBe(event.id);
  });

  it("acks once a retried handler succeeds", async () => {
    let calls = 0;
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "recovers", backoffMs: [50], deliverPolicy: "new" },
      () => {
        calls++;
        if (calls === 1) throw new Error("transient");
      },
    );
    await t.bus.publish(CONFIG_CHANGED, changed());
    await vi.waitFor(async () => {
      const info = await jsm.consumers.info(t.streams.events, "recovers-config-changed");
      expect(info.ack_floor.stream_seq).toBe(info.delivered.stream_seq);
      expect(calls).toBe(2);
    });
    await consumption.stop();
  });

  it("carries traceparent: the given one, or the active OpenTelemetry context's", async () => {
    const seen: (string | undefined)[] = [];
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "traced", deliverPolicy: "new" },
      (_e, ctx) => {
        seen.push(ctx.traceparent);
      },
    );
    await t.bus.publish(CONFIG_CHANGED, changed(), { traceparent: TRACEPARENT });
    await t.bus.publish(CONFIG_CHANGED, changed());
    const fromOtel = "00-11111111111111111111111111111111-2222222222222222-01";
    propagation.setGlobalPropagator({
      inject: (_ctx, carrier, setter) => setter.set(carrier, "traceparent", fromOtel),
      extract: (ctx) => ctx,
      fields: () => ["traceparent"],
    });
    try {
      await t.bus.publish(CONFIG_CHANGED, changed(), { traceparent: TRACEPARENT });
    } finally {
      propagation.disable();
    }
    await vi.waitFor(() => expect(seen).toEqual([TRACEPARENT, undefined, fromOtel]), { timeout: 3_000 });
    await consumption.stop();
  });

  it("lets JetStream drop a repeated message id", async () => {
    const received: string[] = [];
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "dedup", deliverPolicy: "new" },
      (e) => {
        received.push(e.id);
      },
    );
    // The relay's way: Nats-Msg-Id is the event id.
    const envelope = t.bus.envelope(CONFIG_CHANGED, changed());
    const subject = t.bus.subjectFor(CONFIG_CHANGED, changed());
    expect((await t.bus.publishEnvelope(subject, envelope)).duplicate).toBe(false);
    expect((await t.bus.publishEnvelope(subject, envelope)).duplicate).toBe(true);
    // A caller's own idempotency key, e.g. a webhook delivery id, across two fresh envelopes.
    const first = await t.bus.publish(CONFIG_CHANGED, changed(), { msgId: "webhook-delivery-42" });
    const retry = await t.bus.publish(CONFIG_CHANGED, changed(), { msgId: "webhook-delivery-42" });
    expect(first.ack.duplicate).toBe(false);
    expect(retry.ack.duplicate).toBe(true);

    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 3_000 });
    await sleep(200);
    await consumption.stop();
    expect(received).toEqual([envelope.id, first.event.id]);
  });

  it("reads several filter subjects with one durable each", async () => {
    const seen: string[] = [];
    const consumption = await t.bus.consume(
      [CONFIG_CHANGED],
      {
        durable: "multi",
        deliverPolicy: "new",
        filterSubjects: ["nexus.config.changed.production.>", "nexus.config.changed.staging.>"],
      },
      (e) => {
        seen.push(e.data.environment);
      },
    );
    await t.bus.publish(CONFIG_CHANGED, changed({ environment: "production" }));
    await t.bus.publish(CONFIG_CHANGED, changed({ environment: "development" }));
    await t.bus.publish(CONFIG_CHANGED, changed({ environment: "staging" }));
    await vi.waitFor(() => expect([...seen].sort()).toEqual(["production", "staging"]), { timeout: 3_000 });
    await consumption.stop();
    expect(consumption.durables).toEqual(["multi-config-changed-production", "multi-config-changed-staging"]);
  });

  it("stop() waits for the handler in flight and acks it", async () => {
    let finished = false;
    let started = false;
    const consumption = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "slow", deliverPolicy: "new" },
      async () => {
        started = true;
        await sleep(300);
        finished = true;
      },
    );
    await t.bus.publish(CONFIG_CHANGED, changed());
    await vi.waitFor(() => expect(started).toBe(true), { timeout: 3_000 });
    await consumption.stop();
    expect(finished).toBe(true);
    await vi.waitFor(async () => {
      const info = await jsm.consumers.info(t.streams.events, "slow-config-changed");
      expect(info.num_ack_pending).toBe(0);
    });
  });

  it("updates an existing durable's settings on the next start", async () => {
    const first = await t.bus.consume(CONFIG_CHANGED, { durable: "tuned", maxDeliver: 3 }, () => undefined);
    await first.stop();
    const second = await t.bus.consume(
      CONFIG_CHANGED,
      { durable: "tuned", maxDeliver: 8, ackWaitMs: 5_000 },
      () => undefined,
    );
    await second.stop();
    const info = await jsm.consumers.info(t.streams.events, "tuned-config-changed");
    expect(info.config.max_deliver).toBe(9); // one spare delivery for a crash on the last attempt
    expect(info.config.ack_wait).toBe(5_000 * 1e6);
  });

  it("subscribes live (core NATS) with a subject filter", async () => {
    const seen: string[] = [];
    const live = t.bus.subscribe(
      CONFIG_CHANGED,
      { subjectFilter: "nexus.config.changed.production.>" },
      (e) => {
        seen.push(e.data.environment);
      },
    );
    await t.nc.flush();
    await t.bus.publish(CONFIG_CHANGED, changed({ environment: "staging" }));
    await t.bus.publish(CONFIG_CHANGED, changed({ environment: "production" }));
    await vi.waitFor(() => expect(seen).toEqual(["production"]), { timeout: 3_000 });
    await live.stop();
  });
  it("drops, unread, the live events its skipId claims", async () => {
    const seen: number[] = [];
    const skipped: string[] = [];
    let skipNext = true;
    const live = t.bus.subscribe(
      CONFIG_CHANGED,
      {
        skipId: (id) => {
          if (!skipNext) return false;
          skipNext = false;
          skipped.push(id);
          return true;
        },
      },
      (e) => {
        seen.push(e.data.revision);
      },
    );
    await t.nc.flush();
    const first = await t.bus.publish(CONFIG_CHANGED, changed({ revision: 1 }));
    await t.bus.publish(CONFIG_CHANGED, changed({ revision: 2 }));
    await vi.waitFor(() => expect(seen).toEqual([2]), { timeout: 3_000 });
    expect(skipped).toEqual([first.event.id]);
    await live.stop();
  });
});
