import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { ChangeTrace } from "../../src/change-trace.js";
import { withTraceIds } from "../../src/logger.js";
import { startOwnTracing, tracerProviderRegistered, tracesRequested } from "../../src/own-tracing.js";
import { contextOfTraceparent, traceHeadersOf, withAckSpan, withReceiptSpan } from "../../src/tracing.js";

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
const ack = {
  subject: "nexus.config.applied.prod.shop",
  eventId: "e1",
  bodySize: 10,
  revision: 3,
  status: "applied",
};

describe("the SDK's trace headers", () => {
  it("reads a W3C traceparent and writes it back; a malformed one starts nothing", () => {
    expect(traceHeadersOf(contextOfTraceparent(TRACEPARENT, "vendor=x"))).toEqual({
      traceparent: TRACEPARENT,
      tracestate: "vendor=x",
    });
    for (const bad of [undefined, "", "garbage", `ff-${TRACEPARENT.slice(3)}`, `${TRACEPARENT}-extra`])
      expect(traceHeadersOf(contextOfTraceparent(bad))).toEqual({});
    expect(
      traceHeadersOf(contextOfTraceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01")),
    ).toEqual({});
  });

  it("with no OpenTelemetry SDK, an ack still carries the trace of the change it answers", async () => {
    expect(tracerProviderRegistered()).toBe(false);
    const receipt = withReceiptSpan(
      { subject: "nexus.config.changed.prod.shop", eventId: "e0", bodySize: 5, traceparent: TRACEPARENT },
      {},
      (ctx) => ctx,
    );
    const sent = await withAckSpan(receipt, ack, {}, async (headers) => headers);
    expect(sent).toEqual({ traceparent: TRACEPARENT });
    // An ack no change caused carries nothing.
    expect(await withAckSpan(ROOT_CONTEXT, ack, {}, async (headers) => headers)).toEqual({});
  });
});

describe("turning tracing on from OTEL_* variables", () => {
  it("asks for traces only when an exporter or an OTLP endpoint is named, unless disabled", () => {
    expect(tracesRequested({})).toBe(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: "none" })).toBe(false);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: "otlp" })).toBe(true);
    expect(tracesRequested({ OTEL_TRACES_EXPORTER: "none, console" })).toBe(true);
    expect(tracesRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracesRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" })).toBe(true);
    expect(
      tracesRequested({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }),
    ).toBe(false);
    expect(tracesRequested({ OTEL_SDK_DISABLED: "true", OTEL_TRACES_EXPORTER: "otlp" })).toBe(false);
  });

  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("starts one SDK for every client when none is registered, and lets it go with the last", async () => {
    // The SDK reads process.env itself. Sampled out: spans have ids, and nothing is exported.
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "http://127.0.0.1:9/v1/traces";
    process.env.OTEL_TRACES_SAMPLER = "always_off";
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_f: Record<string, unknown>, m: string) => warnings.push(m),
      error: () => undefined,
    };
    expect(await startOwnTracing("shop-api", logger, {})).toBeUndefined(); // not asked
    const first = await startOwnTracing("shop-api", logger, process.env);
    const second = await startOwnTracing("shop-api", logger, process.env);
    expect(warnings).toEqual([]);
    expect(first).toBeDefined();
    expect(tracerProviderRegistered()).toBe(true);

    // While a span is active, the application's logger gets its ids.
    const lines: Record<string, unknown>[] = [];
    const log = withTraceIds({ ...logger, info: (fields) => lines.push(fields) });
    log.info({ a: 1 }, "outside");
    withReceiptSpan({ subject: "s", eventId: "e", bodySize: 1 }, {}, () => log.info({ a: 2 }, "inside"));
    expect(lines[0]).toEqual({ a: 1 });
    expect(lines[1]).toMatchObject({ a: 2, trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(
      trace.isSpanContextValid({
        traceId: String(lines[1]?.trace_id),
        spanId: String(lines[1]?.span_id),
        traceFlags: 1,
      }),
    ).toBe(true);

    // A change's pass runs under its receipt and its ack under the pass, once; a poll runs in no
    // trace, even from inside another span (a timer armed by an earlier pass carries that one).
    const changes = new ChangeTrace({
      service: "shop-api",
      instanceId: "i-1",
      namespace: "shop",
      environment: "prod",
    });
    const receipt = withReceiptSpan(
      { subject: "s", eventId: "e", bodySize: 1, traceparent: TRACEPARENT },
      {},
      (c) => c,
    );
    changes.received(7, receipt);
    const seen: { active?: string; parent?: string }[] = [];
    await changes.run(["event"], false, async () => {
      seen.push({
        active: trace.getActiveSpan()?.spanContext().traceId,
        parent: trace.getSpanContext(changes.ackParent(7))?.spanId,
      });
      return undefined;
    });
    expect(seen[0]?.active).toBe(TRACEPARENT.slice(3, 35));
    expect(seen[0]?.parent).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.getSpanContext(changes.ackParent(8))).toBeUndefined(); // that change was answered
    await withReceiptSpan({ subject: "s", eventId: "e2", bodySize: 1 }, {}, () =>
      changes.run(["poll"], false, async () => {
        seen.push({ active: trace.getActiveSpan()?.spanContext().traceId });
        return undefined;
      }),
    );
    expect(seen[1]).toEqual({ active: undefined });

    await first?.();
    expect(tracerProviderRegistered()).toBe(true); // the second client still uses it
    await second?.();
    expect(tracerProviderRegistered()).toBe(false);
  }, 30_000);
});
