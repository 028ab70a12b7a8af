import { context, propagation, trace } from "@opentelemetry/api";
import { reasonOf } from "./errors.js";
import type { ConfigLogger } from "./logger.js";

type SdkNode = typeof import("@opentelemetry/sdk-node");

/** Not a literal in the import below, so a bundler leaves the optional package out. */
const SDK_NODE = "@opentelemetry/sdk-node";

/**
 * Do the standard variables ask for traces? OTEL_TRACES_EXPORTER other than `none`, or an OTLP
 * endpoint (the exporter then defaults to otlp); OTEL_SDK_DISABLED=true wins. Pure.
 */
export function tracesRequested(env: Record<string, string | undefined>): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (exporters.length > 0) return exporters.some((e) => e !== "none");
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/** Has the application (or anything) registered a tracer provider with the OpenTelemetry API? */
export function tracerProviderRegistered(): boolean {
  // The API's global is a proxy; without a delegate its tracers are no-ops.
  const proxy = trace.getTracerProvider() as { getDelegateTracer?: (name: string) => unknown };
  return (
    typeof proxy.getDelegateTracer !== "function" || proxy.getDelegateTracer("@nexus/client") !== undefined
  );
}

let own: { shutdown(): Promise<void>; users: number } | undefined;

/**
 * The SDK's spans go wherever the application's OpenTelemetry SDK sends them. An application
 * without one that still sets the standard OTEL_* variables gets one started here: the Node SDK
 * (`@opentelemetry/sdk-node`, an optional peer dependency the application installs; it reads
 * every standard variable itself: exporter, endpoint, protocol, headers, sampler, resource), for
 * traces only, no instrumentations. Started once per process for every client, shut down
 * (flushed) when the last of them closes; the returned function is this client's release.
 * Without the package, one warning and no tracing.
 */
export async function startOwnTracing(
  service: string,
  logger: ConfigLogger,
  env: Record<string, string | undefined>,
): Promise<(() => Promise<void>) | undefined> {
  if (!tracesRequested(env)) return undefined;
  if (!own && tracerProviderRegistered()) return undefined; // the application's SDK has the spans
  if (!own) {
    let sdkNode: SdkNode;
    try {
      sdkNode = (await import(SDK_NODE)) as SdkNode;
    } catch (err) {
      logger.warn(
        { err: reasonOf(err) },
        `nexus-client: OTEL_* variables ask for traces, but no OpenTelemetry SDK is registered and ${SDK_NODE} is not installed; install it or register an SDK in the application`,
      );
      return undefined;
    }
    // Another client may have started it while this one loaded the package.
    if (!own) {
      const sdk = new sdkNode.NodeSDK({
        ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: service }),
        instrumentations: [],
        metricReaders: [],
        logRecordProcessors: [],
      });
      sdk.start();
      own = { shutdown: () => sdk.shutdown(), users: 0 };
      logger.info({}, "nexus-client: started an OpenTelemetry SDK for traces from the OTEL_* variables");
    }
  }
  const started = own;
  if (!started) return undefined;
  started.users += 1;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    started.users -= 1;
    if (started.users > 0 || own !== started) return;
    own = undefined;
    try {
      await started.shutdown();
    } finally {
      // Back to the no-op API, so a client connected later can start one again.
      trace.disable();
      context.disable();
      propagation.disable();
    }
  };
}
