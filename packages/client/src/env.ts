/**
 * The only environment variables the SDK reads: the standard OTEL_* ones, which decide whether it
 * starts an OpenTelemetry SDK of its own (`own-tracing.ts`). Everything else comes from options.
 */
export function otelEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith("OTEL_")));
}
