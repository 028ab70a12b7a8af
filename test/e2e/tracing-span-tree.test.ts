import { Writable } from "node:stream";
import { ConfigGetReply, configGetSubject } from "@nexus/contracts";
import { createLogger, startTracing, type Tracing } from "@nexus/kit";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  type Harness,
  startRegistry,
} from "../../services/config-registry/test/integration/harness.js";

/**
 * One trace for one change: the registry's HTTP write (SERVER span), the outbox relay's publish
 * of config.changed (PRODUCER, a child of the request although the relay sends it later, from the
 * trace headers stored with the outbox row), and another service's consumer (CONSUMER, a child of
 * the publish) whose log lines carry the same trace_id.
 */
describe("tracing: a config write to its consumers, as one span tree", () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let h: Harness;
  const logLines: Record<string, unknown>[] = [];
  const consumed: string[] = [];
  let stopConsumer: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    // Before the apps are built, as in each main.ts.
    tracing = startTracing(
      {
        OTEL_SDK_DISABLED: false,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_BSP_SCHEDULE_DELAY: 5_000,
      },
      {
        service: "tracing-test",
        spanExporter: exporter,
      },
    );
    expect(tracing.enabled).toBe(true);
    h = await startRegistry();
    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const otherLogger = createLogger({ service: "other-service", level: "info" }, sink);
    const consumption = await h.nats.bus.consume(
      "nexus.config.changed",
      { durable: "other-service" },
      async (event) => {
        otherLogger.info({ eventId: event.id }, "applied the change");
        consumed.push(event.id);
      },
    );
    stopConsumer = () => consumption.stop();
  });
  afterAll(async () => {
    await stopConsumer?.();
    await h?.close();
    await tracing?.shutdown();
  });

  it("links the HTTP request, the outbox publish and the consumer in one trace", async () => {
    expect((await call(h, "POST", "/v1/namespaces", { name: "traced" })).status).toBe(201);
    exporter.reset();
    const write = await call(h, "PUT", "/v1/namespaces/traced/layers/staging", { limit: 7 });
    expect(write.status).toBe(200);
    await expect.poll(() => consumed.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CONSUMER).length, {
        timeout: 5_000,
      })
      .toBeGreaterThan(0);

    const spans = exporter.getFinishedSpans();
    const server = spans.find(
      (s) => s.kind === SpanKind.SERVER && s.attributes["http.request.method"] === "PUT",
    );
    expect(server, spans.map((s) => s.name).join(", ")).toBeDefined();
    const s = server as ReadableSpan;
    expect(s.name).toBe(`PUT ${s.attributes["http.route"]}`);
    expect(s.attributes["http.route"]).toMatch(/^\/v1\/namespaces\/:\w+\/layers\/:\w+$/);
    expect(s.attributes["http.response.status_code"]).toBe(200);

    const traceId = s.spanContext().traceId;
    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    const producer = spans.find(
      (x) =>
        x.kind === SpanKind.PRODUCER &&
        String(x.attributes["messaging.destination.name"]).includes(".config.changed.staging.traced"),
    );
    expect(producer, spans.map((x) => `${x.name} ${SpanKind[x.kind]}`).join(", ")).toBeDefined();
    expect(producer?.spanContext().traceId).toBe(traceId);
    expect(parentOf(producer as ReadableSpan)).toBe(s.spanContext().spanId);
    expect(producer?.attributes["messaging.system"]).toBe("nats");
    expect(producer?.attributes["messaging.operation.type"]).toBe("send");
    expect(producer?.attributes["messaging.message.id"]).toBe(consumed.at(-1));

    const consumer = spans.find(
      (x) =>
        x.kind === SpanKind.CONSUMER && x.attributes["messaging.consumer.group.name"] === "other-service",
    );
    expect(consumer?.spanContext().traceId).toBe(traceId);
    expect(parentOf(consumer as ReadableSpan)).toBe(producer?.spanContext().spanId);
    expect(consumer?.name).toBe(`process ${producer?.attributes["messaging.destination.name"]}`);
    expect(consumer?.attributes["messaging.operation.type"]).toBe("process");
    expect(consumer?.attributes["nexus.event.type"]).toBe("nexus.config.changed");

    // The write's Postgres statements and Redis commands are CLIENT spans inside the request
    // (the kit's store boundaries), with the database semantic-convention attributes; none is
    // made outside a trace (background polls).
    const inRequest = (x: ReadableSpan) => {
      for (let p = parentOf(x); p; ) {
        if (p === s.spanContext().spanId) return true;
        p = spans.find((y) => y.spanContext().spanId === p)?.parentSpanContext?.spanId;
      }
      return false;
    };
    const clients = spans.filter((x) => x.kind === SpanKind.CLIENT);
    const queries = clients.filter((x) => x.attributes["db.system.name"] === "postgresql" && inRequest(x));
    expect(queries.length, clients.map((x) => x.name).join(", ")).toBeGreaterThan(0);
    const statement = queries.find((x) => x.attributes["db.operation.name"] !== "SELECT") ?? queries[0];
    expect(statement?.name).toBe(statement?.attributes["db.operation.name"]);
    expect(String(statement?.attributes["db.query.text"])).toMatch(/^\s*(WITH|INSERT|UPDATE|SELECT|BEGIN)/i);
    expect(statement?.attributes["db.namespace"]).toBeTruthy();
    const redisCommands = clients.filter((x) => x.attributes["db.system.name"] === "redis" && inRequest(x));
    expect(redisCommands.length, clients.map((x) => x.name).join(", ")).toBeGreaterThan(0);
    expect(redisCommands[0]?.name).toMatch(/^[A-Z]+$/);
    expect(clients.every((x) => x.parentSpanContext?.spanId)).toBe(true);

    // The consumer's log line names its span, so logs and traces find each other.
    const line = logLines.find((l) => l.msg === "applied the change" && l.eventId === consumed.at(-1));
    expect(line?.trace_id).toBe(traceId);
    expect(line?.span_id).toBe(consumer?.spanContext().spanId);
  });

  it("traces a NATS command: the requester's CLIENT span, the responder's SERVER span under it", async () => {
    expect((await call(h, "POST", "/v1/namespaces", { name: "commanded" })).status).toBe(201);
    expect((await call(h, "PUT", "/v1/namespaces/commanded/layers/staging", { limit: 1 })).status).toBe(200);
    exporter.reset();
    const ask = (namespace: string) =>
      h.nats.bus.requestCommand(
        configGetSubject({ namespace, environment: "staging" }),
        { schemaVersion: 1, namespace, environment: "staging" },
        ConfigGetReply,
      );
    expect((await ask("commanded")).ok).toBe(true);
    expect((await ask("no-such-namespace")).ok).toBe(false);
    const commandSpans = () =>
      exporter
        .getFinishedSpans()
        .filter((x) =>
          String(x.attributes["messaging.destination.name"]).includes(".config.cmd.get.staging."),
        );
    await expect.poll(() => commandSpans().length, { timeout: 10_000 }).toBe(4);

    for (const namespace of ["commanded", "no-such-namespace"]) {
      const pair = commandSpans().filter((x) =>
        String(x.attributes["messaging.destination.name"]).endsWith(`.staging.${namespace}`),
      );
      const client = pair.find((x) => x.kind === SpanKind.CLIENT);
      const server = pair.find((x) => x.kind === SpanKind.SERVER);
      const subject = String(client?.attributes["messaging.destination.name"]);
      expect(client?.name).toBe(`request ${subject}`);
      expect(client?.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.operation.name": "request",
      });
      expect(Number(client?.attributes["messaging.message.body.size"])).toBeGreaterThan(0);
      expect(server?.name).toBe(`process ${subject}`);
      expect(server?.spanContext().traceId).toBe(client?.spanContext().traceId);
      expect(server?.parentSpanContext?.spanId).toBe(client?.spanContext().spanId);
      expect(server?.attributes).toMatchObject({
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.consumer.group.name": expect.any(String),
      });
    }
    // A refusal names its code on the responder's span; a 4xx is the caller's fault, not a failure.
    const refused = commandSpans().find(
      (x) => x.kind === SpanKind.SERVER && String(x.name).endsWith(".no-such-namespace"),
    );
    expect(refused?.attributes["nexus.command.error_code"]).toBeTruthy();
    expect(refused?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("continues a caller's trace (W3C traceparent) and does not trace probes", async () => {
    exporter.reset();
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await call(h, "GET", "/v1/namespaces/traced/environments/staging/resolved", undefined, {
      traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`,
    });
    expect(res.status).toBe(200);
    const probe = await h.registry.app.inject({ method: "GET", url: "/readyz" });
    expect(probe.statusCode).toBe(200);
    const spans = exporter.getFinishedSpans();
    const server = spans.filter((x) => x.kind === SpanKind.SERVER);
    expect(server.map((x) => x.attributes["url.path"])).toEqual([
      "/v1/namespaces/traced/environments/staging/resolved",
    ]);
    expect(server[0]?.spanContext().traceId).toBe(callerTrace);
    expect(server[0]?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  });
});
