export { registerHttpTracing } from "./http-tracing.js";
export * from "./semconv.js";
export {
  activeTraceIds,
  contextFromCarrier,
  failSpan,
  inSpan,
  tracer,
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
