import { randomUUID } from "node:crypto";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { type AccessControlOptions, type RouteAccess, registerAccessControl } from "../auth/access-hook.js";
import { TooManyRequestsError } from "../errors.js";
import type { Logger } from "../logger.js";
import { registerHttpTracing } from "../tracing/http-tracing.js";
import { isTracingEnabled } from "../tracing/tracing.js";
import { discardUnreadBody, type LingeringSockets, SECURITY_HEADERS } from "./connection-errors.js";
import { registerErrorHandling } from "./error-handler.js";
import { checkReadiness, type HealthCheck, type Readiness, registerHealth } from "./health.js";
import { clientErrorHandler, frameworkErrorHandler, registerInputGuards } from "./input-guards.js";
import { createMetricsRegistry, registerMetrics } from "./metrics.js";
import { openApiComponents } from "./openapi-components.js";
import { createBatchedRateLimitStore } from "./rate-limit-store.js";
import { deferredChildLogger } from "./request-logger.js";

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpAppOptions {
  service: string;
  version?: string;
  description?: string;
  logger: Logger;
  checks: HealthCheck[];
  /** Largest accepted request body; 1 MiB unless a service needs otherwise. */
  bodyLimit?: number;
  metrics?: Registry;
  /** Authentication and authorization; every route must then declare `config.access`. */
  access: AccessControlOptions;
  /**
   * Requests per minute per token (shared through Redis when given, each instance adding its
   * counts every `syncMs`, `rate-limit-store.ts`); 0 or absent: no limit.
   */
  rateLimit?: { perMinute: number; redis: Redis | null; syncMs?: number };
  /**
   * Proxies whose `X-Forwarded-For` is believed for the client address (addresses or CIDR
   * ranges, TRUST_PROXY); empty or absent: the peer address is the client's.
   */
  trustProxy?: readonly string[];
}

export interface HttpApp {
  app: App;
  /** Every route with its access rule, in registration order (filled as routes are added). */
  routes: readonly RouteAccess[];
  metrics: Registry;
  /** Flip /readyz to 503 before closing, so traffic drains away first. */
  startDraining(): void;
  isDraining(): boolean;
  /** What `/readyz` would answer now (the service heartbeat reports it). */
  readiness(): Promise<Readiness>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A fastify app with everything every Nexus API shares; routes are added by the service. */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  let draining = false;
  const base = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // One line per request is written by our onResponse hook, in plain words.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    ...(options.trustProxy?.length ? { trustProxy: [...options.trustProxy] } : {}),
    clientErrorHandler: clientErrorHandler(SECURITY_HEADERS),
    frameworkErrors: frameworkErrorHandler(SECURITY_HEADERS),
    childLoggerFactory: deferredChildLogger,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app: App = base.withTypeProvider<ZodTypeProvider>();
  // First of all hooks, so the request's span covers access control and the handler.
  if (isTracingEnabled()) registerHttpTracing(base);

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  // Fixed security headers set in one call: @fastify/helmet rebuilds its middleware per request,
  // which cost more than half the throughput of a cached read (see test/bench/README.md).
  // The first onRequest hook, before access control: a hook that refuses ends the chain, so
  // headers set by a later hook would be missing from 401s, 403s and hidden 404s.
  // Callback hooks, not async ones: no promise per hook per request on the hot read path.
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(SECURITY_HEADERS).header("x-request-id", request.id);
    done();
  });
  registerInputGuards(app);
  const routes = registerAccessControl(app, options.access);

  // `Expect: 100-continue`: without a checkContinue listener Node says "100 Continue" before any
  // hook runs, so a client uploads megabytes that a 401 or a 413 then refuses, and may see the
  // reset before the answer. Here the go-ahead is given only once routing and access control
  // passed and the announced length fits the route's limit; otherwise the refusal goes out first.
  base.server.on("checkContinue", (req, res) => base.server.emit("request", req, res));
  app.addHook("preParsing", (request, reply, payload, done) => {
    if (wantsContinue(request.headers.expect) && typeof reply.raw.writeContinue === "function") {
      const length = Number(request.headers["content-length"]);
      const limit = request.routeOptions.bodyLimit ?? options.bodyLimit ?? 1024 * 1024;
      if (!(length > limit)) reply.raw.writeContinue();
    }
    done(null, payload);
  });

  const lingering: LingeringSockets = new Set();
  app.addHook("preClose", (done) => {
    for (const socket of lingering) socket.destroy();
    done();
  });
  // fastify asks to close the connection after refusing a body (a 413, a parse error). Closed while
  // the client is still uploading, the client's stack gets a reset and may drop the answer it had
  // not read yet (EPIPE instead of the 413). Keep the connection: the rest of the body is read and
  // thrown away (bounded, below) and the answer reaches the client.
  app.addHook("onSend", (request, reply, payload, done) => {
    if (request.raw.complete === false && reply.getHeader("connection") === "close")
      reply.removeHeader("connection");
    done(null, payload);
  });
  app.addHook("onResponse", (request, reply, done) => {
    done();
    if (request.raw.complete === false) discardUnreadBody(request.raw, lingering);
    if (request.url === "/livez" || request.url === "/readyz" || request.url === "/metrics") return;
    const level = reply.statusCode >= 500 ? "error" : "info";
    if (!(request.log as Logger).isLevelEnabled(level)) return;
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request completed",
    );
  });

  if (options.rateLimit && options.rateLimit.perMinute > 0) {
    // After authentication (preHandler), so the key is the token, not a shared NAT address;
    // requests without a valid token never get here (they are refused, and counted, on the way in).
    await app.register(rateLimit, {
      hook: "preHandler",
      max: options.rateLimit.perMinute,
      timeWindow: 60_000,
      ...(options.rateLimit.redis
        ? {
            store: createBatchedRateLimitStore({
              redis: options.rateLimit.redis,
              nameSpace: "ratelimit:",
              ...(options.rateLimit.syncMs ? { syncMs: options.rateLimit.syncMs } : {}),
            }),
          }
        : {}),
      nameSpace: "ratelimit:",
      skipOnError: true,
      keyGenerator: (request) => request.principal?.subject ?? `ip:${request.ip}`,
      allowList: (request) => {
        const rule = request.routeOptions.config.access;
        return !rule || "public" in rule;
      },
      errorResponseBuilder: (_request, context) =>
        new TooManyRequestsError(
          "rate_limited",
          `Too many requests with this token: at most ${context.max} per minute; retry in ${context.after}.`,
          Math.max(1, Math.ceil(context.ttl / 1000)),
        ),
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: options.service,
        version: options.version ?? "0.1.0",
        description: options.description ?? "",
      },
    },
    transform: jsonSchemaTransform,
    // Schemas with a zod `.meta({ id })` (recursive ones: the notifier's route tree) are `$ref`s
    // in the routes; this puts their definitions under components.schemas.
    transformObject: openApiComponents,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  const metrics = options.metrics ?? createMetricsRegistry(options.service);
  registerMetrics(app, metrics);
  registerHealth(app, options.checks, () => draining);

  return {
    app,
    routes,
    metrics,
    startDraining: () => {
      draining = true;
    },
    isDraining: () => draining,
    readiness: () => checkReadiness(options.checks, draining),
  };
}

function wantsContinue(expect: string | undefined): boolean {
  return expect?.trim().toLowerCase() === "100-continue";
}
