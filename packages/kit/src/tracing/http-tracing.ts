import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from "@opentelemetry/semantic-conventions";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { failSpan, tracer } from "./spans.js";

const spans = new WeakMap<FastifyRequest, Span>();
const UNTRACED = new Set(["/livez", "/readyz", "/metrics"]);

/**
 * A SERVER span per request (`GET /v1/namespaces/:namespace`), a child of the caller's
 * `traceparent` when it sends one. It is made active from the first preHandler on, so the
 * handler's own spans, its logs and the events it writes (outbox rows keep the trace headers)
 * belong to the request's trace. Probes and /metrics are not traced. Register before any other
 * hook (first onRequest, first preHandler).
 */
export function registerHttpTracing(app: FastifyInstance): void {
  app.addHook("onRequest", (request, _reply, done) => {
    const path = request.url.split("?")[0] ?? request.url;
    if (UNTRACED.has(path)) return done();
    const route = request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: path,
          [ATTR_URL_SCHEME]: request.protocol,
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
          "nexus.request_id": request.id,
        },
      },
      parent,
    );
    spans.set(request, span);
    // Access control and every later onRequest hook run inside the span too.
    context.with(trace.setSpan(parent, span), done);
  });
  // Body parsing runs in the socket's context; enter the span again before the handler.
  app.addHook("preHandler", (request, _reply, done) => {
    const span = spans.get(request);
    if (!span) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook("onError", (request, _reply, error, done) => {
    const span = spans.get(request);
    if (span) failSpan(span, error);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
}
