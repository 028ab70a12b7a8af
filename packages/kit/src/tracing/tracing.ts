import { hostname } from "node:os";
import { context, propagation, trace } from "@opentelemetry/api";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import {
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace";
import type { BaseEnv } from "../env.js";
import { instanceIdOf } from "../instance-id.js";

/** The standard OTEL_* variables Nexus reads (declared and checked in baseEnvSchema). */
export type TracingEnv = Pick<
  BaseEnv,
  | "OTEL_SDK_DISABLED"
  | "OTEL_TRACES_EXPORTER"
  | "OTEL_EXPORTER_OTLP_ENDPOINT"
  | "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
  | "OTEL_EXPORTER_OTLP_PROTOCOL"
  | "OTEL_SERVICE_NAME"
  | "OTEL_BSP_SCHEDULE_DELAY"
  | "INSTANCE_ID"
>;

export type TracingPlan =
  | { exporter: "none" }
  | { exporter: "console" }
  | { exporter: "otlp"; url: string; protocol: "http/protobuf" | "http/json" };

/**
 * Whether and where spans go. Off unless asked for: OTEL_TRACES_EXPORTER=otlp|console, or an
 * OTLP endpoint (the exporter then defaults to otlp, as the OpenTelemetry spec says);
 * OTEL_SDK_DISABLED=true wins over both. The traces URL is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * as given, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.
 */
export function tracingPlan(env: TracingEnv): TracingPlan {
  if (env.OTEL_SDK_DISABLED) return { exporter: "none" };
  const exporter =
    env.OTEL_TRACES_EXPORTER ??
    (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT ? "otlp" : "none");
  if (exporter !== "otlp") return { exporter };
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    `${(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "http://localhost:4318").replace(/\/+$/, "")}/v1/traces`;
  return { exporter: "otlp", url, protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL };
}

export interface Tracing {
  readonly enabled: boolean;
  /** Where spans go, in plain words (for the start-up log line). */
  readonly description: string;
  /** Export what is buffered and unregister the SDK (last closer at shutdown). */
  shutdown(): Promise<void>;
}

let started = false;

/** True once startTracing has installed an SDK: HTTP and bus spans are recorded from then on. */
export function isTracingEnabled(): boolean {
  return started;
}

export interface StartTracingOptions {
  service: string;
  /** Tests: spans go here, one at a time, whatever the environment says. */
  spanExporter?: SpanExporter;
}

/**
 * Call first in a service's main(), before the HTTP app and the bus are built: installs the
 * OpenTelemetry SDK (tracer provider, AsyncLocalStorage context, W3C trace-context propagation)
 * when the OTEL_* variables ask for traces. No auto-instrumentation: the kit makes the spans
 * itself (HTTP requests, bus publish and process, outbox publish).
 */
export function startTracing(env: TracingEnv, options: StartTracingOptions): Tracing {
  const plan: TracingPlan = options.spanExporter ? { exporter: "console" } : tracingPlan(env);
  if (plan.exporter === "none" || started) {
    return { enabled: false, description: "tracing off", shutdown: async () => undefined };
  }
  let exporter: SpanExporter;
  let description: string;
  if (options.spanExporter) {
    exporter = options.spanExporter;
    description = "spans to the given exporter";
  } else if (plan.exporter === "console") {
    exporter = new ConsoleSpanExporter();
    description = "spans to stdout";
  } else {
    exporter =
      plan.protocol === "http/json"
        ? new OtlpJsonExporter({ url: plan.url })
        : new OtlpProtobufExporter({ url: plan.url });
    description = `spans over OTLP/HTTP (${plan.protocol}) to ${plan.url}`;
  }
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? options.service,
    // The instance's name as its heartbeats give it, so a trace tells the replicas apart.
    resource: resourceFromAttributes({
      "service.instance.id": env.INSTANCE_ID ?? instanceIdOf(hostname(), process.pid),
    }),
    // The default detectors less the one that would replace that name by a random UUID.
    resourceDetectors: [envDetector, hostDetector, osDetector, processDetector],
    spanProcessors: [
      options.spanExporter
        ? new SimpleSpanProcessor({ exporter })
        : new BatchSpanProcessor({ exporter, scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY }),
    ],
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  started = true;
  return {
    enabled: true,
    description,
    async shutdown() {
      if (!started) return;
      try {
        await sdk.shutdown();
      } finally {
        // Back to the no-op API, so a later startTracing (another test) can register again.
        trace.disable();
        context.disable();
        propagation.disable();
        started = false;
      }
    },
  };
}
