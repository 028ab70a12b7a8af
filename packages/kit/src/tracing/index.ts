export type { Span } from "@opentelemetry/api";
export { registerHttpTracing } from "./http-tracing.js";
export * from "./semconv.js";
export {
  activeTraceIds,
  activeTraceparent,
  bindActiveContext,
  contextFromCarrier,
  failSpan,
  inSpan,
  inWorkSpan,
  startWorkSpan,
  traceparentOf,
  tracer,
  type WorkSpanOptions,
  withCommandClientSpan,
  withCommandServerSpan,
  withConsumerSpan,
  withProducerSpan,
} from "./spans.js";
export { operationOf, traceQueries, traceRedisCommands } from "./store-spans.js";
export {
  isTracingEnabled,
  type StartTracingOptions,
  startTracing,
  type Tracing,
  type TracingEnv,
  type TracingPlan,
  tracingPlan,
} from "./tracing.js";
