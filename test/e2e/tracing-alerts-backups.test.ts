import type { AddressInfo } from "node:net";
import { createLogger, startTracing, type Tracing } from "@nexus/kit";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BackupHarness,
  startBackupHarness,
  until,
} from "../../services/backup/test/integration/harness.js";
import {
  type Harness as Monitor,
  startBeating,
  startMonitor,
} from "../../services/monitor/test/integration/harness.js";
import { type Harness as Notifier, startNotifier } from "../../services/notifier/test/integration/harness.js";
import { type ScriptedReceiver, startReceiver } from "../../services/notifier/test/integration/receivers.js";

/**
 * The spans of work that no request carries through to the end, on the real services in this
 * process with one in-memory exporter: a monitor alert (its evaluator's `raise alert` span, the
 * alert.raised publish under it, the notifier's processing of it and the delivery attempt, all
 * in one trace) and a backup run (the API request, `take backup` and `verify backup` under it,
 * and the backup.verified publish under the verification).
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;

const spans = () => exporter.getFinishedSpans();
const byId = (id: string | undefined) => spans().find((s) => s.spanContext().spanId === id);
const parentOf = (s: ReadableSpan | undefined) => byId(s?.parentSpanContext?.spanId);
const ancestors = (s: ReadableSpan | undefined): ReadableSpan[] => {
  const out: ReadableSpan[] = [];
  for (let p = parentOf(s); p; p = parentOf(p)) out.push(p);
  return out;
};
const listing = () =>
  spans()
    .map((s) => `${SpanKind[s.kind]} ${s.name}`)
    .join("\n");
const onSubject = (kind: SpanKind, subjectPart: string) =>
  spans().filter(
    (s) => s.kind === kind && String(s.attributes["messaging.destination.name"]).includes(subjectPart),
  );

beforeAll(() => {
  tracing = startTracing(
    {
      OTEL_SDK_DISABLED: false,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_BSP_SCHEDULE_DELAY: 5_000,
    },
    { service: "alert-backup-trace-test", spanExporter: exporter },
  );
  expect(tracing.enabled).toBe(true);
});
afterAll(async () => tracing?.shutdown());

describe("tracing: a monitor alert through the notifier to its delivery", () => {
  let notifier: Notifier;
  let monitor: Monitor;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    [notifier, hook] = await Promise.all([startNotifier(), startReceiver()]);
    await notifier.app.app.listen({ host: "127.0.0.1", port: 0 });
    const notifierUrl = `http://127.0.0.1:${(notifier.app.app.server.address() as AddressInfo).port}`;
    monitor = await startMonitor(
      { expectedServices: ["drift-detector"], notifierUrl },
      {
        nats: notifier.nats,
        authenticator: () =>
          notifier.issuer.authenticator(createLogger({ service: "monitor-test", level: "silent" })),
      },
    );
    const routing = await notifier.call("PUT", "/v1/routing", {
      route: { receiver: "oncall", groupWaitMs: 0, groupIntervalMs: 100 },
      receivers: [{ name: "oncall", type: "webhook", url: `${hook.url}/hook` }],
    });
    expect(routing.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await monitor?.close();
    await notifier?.close();
    await hook?.close();
  });

  it("puts the alert's firing, its event, the notifier's handling and the delivery in one trace", async () => {
    const beating = await startBeating(monitor, "drift-detector", "d-1", 0.2);
    await expect
      .poll(
        async () =>
          (await monitor.call("GET", "/v1/health", undefined, { authorization: "" })).body.services?.[
            "drift-detector"
          ],
        { timeout: 10_000 },
      )
      .toBe("up");
    const rules = await monitor.call(
      "PUT",
      "/v1/alert-rules",
      {
        rules: [
          { name: "detector-down", kind: "service_down", severity: "critical", services: ["drift-detector"] },
        ],
      },
      { authorization: `Bearer ${notifier.adminToken}` },
    );
    expect(rules.status).toBe(200);
    exporter.reset();
    await beating.crash();
    await hook.waitFor(1, 10_000);
    const deliveries = () => spans().filter((s) => s.name === "deliver webhook");
    await expect.poll(() => deliveries().length, { timeout: 10_000 }).toBeGreaterThan(0);

    const raised = spans().filter((s) => s.name === "raise alert");
    expect(raised, listing()).toHaveLength(1);
    const raise = raised[0] as ReadableSpan;
    expect(raise.attributes).toMatchObject({
      "nexus.alert.fingerprint": "monitor:detector-down:drift-detector",
      "nexus.alert.rule": "detector-down",
      "nexus.alert.severity": "critical",
    });
    const traceId = raise.spanContext().traceId;
    // The outbox relay publishes alert.raised later, under the span that wrote it.
    const sends = onSubject(SpanKind.PRODUCER, ".alert.raised.");
    expect(sends.map(parentOf), listing()).toEqual([raise]);
    const send = sends[0] as ReadableSpan;
    const processed = onSubject(SpanKind.CONSUMER, ".alert.raised.").filter((s) => parentOf(s) === send);
    expect(processed.length, listing()).toBeGreaterThan(0);
    expect(deliveries(), listing()).toHaveLength(1);
    const delivery = deliveries()[0] as ReadableSpan;
    expect(delivery.kind).toBe(SpanKind.CLIENT);
    expect(delivery.spanContext().traceId).toBe(traceId);
    expect(processed).toContain(parentOf(delivery));
    expect(delivery.attributes).toMatchObject({
      "nexus.receiver.name": "oncall",
      "nexus.delivery.attempt": 1,
      "nexus.delivery.outcome": "delivered",
    });
  }, 40_000);
});

describe("tracing: a backup run", () => {
  let h: BackupHarness;

  beforeAll(async () => {
    h = await startBackupHarness();
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
  }, 60_000);
  afterAll(async () => h?.close());

  it("puts taking and verifying a backup under the request, and its announcement under the verification", async () => {
    const app = await h.build();
    exporter.reset();
    const started = await h.call(app, "POST", "/v1/backups", {});
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    await until(async () => {
      const b = (await h.call(app, "GET", `/v1/backups/${id}`)).body;
      return b.status === "completed" && b.verification === "verified";
    });
    await expect.poll(() => onSubject(SpanKind.PRODUCER, ".backup.verified.").length).toBe(1);

    const request = spans().find((s) => s.kind === SpanKind.SERVER && s.name === "POST /v1/backups");
    expect(request, listing()).toBeDefined();
    const takes = spans().filter((s) => s.name === "take backup");
    expect(takes.map(parentOf), listing()).toEqual([request]);
    expect((takes[0] as ReadableSpan).attributes).toMatchObject({
      "nexus.backup.id": id,
      "nexus.backup.trigger": "api",
      "nexus.backup.status": "completed",
    });
    expect((takes[0] as ReadableSpan).attributes["nexus.backup.rows"]).toBeGreaterThan(0);
    // The backup read the schemas in Postgres statements of its own, under the take.
    expect(
      spans().some(
        (s) =>
          s.attributes["db.system.name"] === "postgresql" && ancestors(s).includes(takes[0] as ReadableSpan),
      ),
    ).toBe(true);
    const verifications = spans().filter((s) => s.name === "verify backup");
    expect(verifications.map(parentOf), listing()).toEqual([request]);
    const verify = verifications[0] as ReadableSpan;
    expect(verify.attributes).toMatchObject({
      "nexus.backup.id": id,
      "nexus.backup.verification": "verified",
    });
    expect(onSubject(SpanKind.PRODUCER, ".backup.verified.").map(parentOf)).toEqual([verify]);
  }, 60_000);
});
