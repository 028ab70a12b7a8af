import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuditEntry, AuditSink } from "../audit/audit-types.js";
import { ForbiddenError, NotFoundError, TooManyRequestsError, UnauthorizedError } from "../errors.js";
import { canAccess } from "./access-fns.js";
import type { AccessRule, Principal } from "./auth-types.js";
import type { Authenticator } from "./authenticator.js";
import type { FailedAuthLimiter } from "./failed-auth-limiter.js";

export interface AccessControlOptions {
  authenticator: Authenticator;
  failures?: FailedAuthLimiter | undefined;
  audit?: AuditSink | undefined;
}

/** One registered route and its rule: the route table access tests are generated from. */
export interface RouteAccess {
  method: string;
  url: string;
  access: AccessRule;
}

/** Routes the kit itself serves without a token: probes, metrics, API docs. */
const KIT_PUBLIC_PREFIXES = ["/docs"];

declare module "fastify" {
  interface FastifyRequest {
    /** Set by a handler that did something the audit log must show on a read (e.g. revealed secrets). */
    auditNote: { action: string; details?: Record<string, unknown> } | null;
    /** Why access was refused, for the audit line (a hidden refusal answers 404). */
    accessDenied: string | null;
    /** The request's audit line was committed with the change it made: the response adds none. */
    auditCommitted: boolean;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function tooManyFailures(request: FastifyRequest, seconds: number): TooManyRequestsError {
  request.accessDenied = "too many failed logins";
  return new TooManyRequestsError(
    "too_many_failed_logins",
    `Too many invalid tokens from this address; try again in ${seconds} s.`,
    seconds,
  );
}

/** An authenticator's refusal (expired, revoked) keeps its code; anything else passes through. */
function refused(request: FastifyRequest, err: unknown): Error {
  if (err instanceof UnauthorizedError) request.accessDenied = err.code;
  return err instanceof Error ? err : new Error(String(err));
}
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function ruleOf(request: FastifyRequest): AccessRule | undefined {
  return request.routeOptions.config.access;
}

/**
 * Authentication and authorization for every route, declared per route as `config.access`.
 * A route without a rule is refused when it is registered, so nothing is reachable by accident.
 */
export function registerAccessControl(app: FastifyInstance, options: AccessControlOptions): RouteAccess[] {
  const routes: RouteAccess[] = [];
  app.decorateRequest("principal", null);
  app.decorateRequest("auditNote", null);
  app.decorateRequest("auditCommitted", false);
  app.decorateRequest("accessDenied", null);

  app.addHook("onRoute", (route) => {
    if (!route.config?.access && KIT_PUBLIC_PREFIXES.some((p) => route.url.startsWith(p))) {
      route.config = { ...route.config, access: { public: true, reason: "API documentation" } };
    }
    const access = route.config?.access;
    if (access) {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url, access });
      return;
    }
    throw new Error(
      `Route ${route.method} ${route.url} declares no access rule: add config.access (a role, or public with a reason).`,
    );
  });

  // A callback hook with a synchronous path: a token the authenticator has cached costs no
  // promise and no I/O (this runs on every request, including the hot cached read).
  app.addHook("onRequest", (request, _reply, done) => {
    const rule = ruleOf(request);
    if (!rule || "public" in rule) return done();

    const header = request.headers.authorization;
    const credential = typeof header === "string" ? BEARER.exec(header)?.[1] : undefined;
    if (!credential) {
      request.accessDenied = "no credentials";
      return done(
        new UnauthorizedError(
          "unauthenticated",
          "This endpoint needs an API token: send 'Authorization: Bearer <token>'.",
        ),
      );
    }
    // The limiter is asked only once a credential has proved invalid: a valid one always goes
    // through, whatever others behind the same address (a NAT, a proxy, a CI runner) got wrong.
    let result: ReturnType<Authenticator["authenticate"]>;
    try {
      result = options.authenticator.authenticate(credential);
    } catch (err) {
      return done(refusedOrBlocked(request, err));
    }
    const finish = (outcome: Error | undefined | Promise<Error>) => {
      if (outcome instanceof Promise) outcome.then(done);
      else done(outcome);
    };
    if (result instanceof Promise) {
      result.then(
        (principal) => finish(authorize(request, rule, principal)),
        (err: unknown) => done(refusedOrBlocked(request, err)),
      );
      return;
    }
    finish(authorize(request, rule, result));
  });

  /** An authenticator's refusal (expired, revoked), or 429 while this address is blocked. */
  function refusedOrBlocked(request: FastifyRequest, err: unknown): Error {
    const wait = err instanceof UnauthorizedError ? (options.failures?.blockedFor(request.ip) ?? 0) : 0;
    return wait > 0 ? tooManyFailures(request, wait) : refused(request, err);
  }

  /** The refusal for this principal on this route, or undefined to go ahead (async only to count a failure). */
  function authorize(
    request: FastifyRequest,
    rule: Exclude<AccessRule, { public: true }>,
    principal: Principal | null,
  ): Error | undefined | Promise<Error> {
    if (!principal) {
      const wait = options.failures?.blockedFor(request.ip) ?? 0;
      if (wait > 0) return tooManyFailures(request, wait);
      request.accessDenied = "invalid token";
      const invalid = new UnauthorizedError("invalid_token", "This token is not valid.");
      if (!options.failures) return invalid;
      // The failure that reaches the limit is still a 401; the block holds from the next request.
      return options.failures.recordFailure(request.ip).then(
        () => invalid,
        () => invalid,
      );
    }
    request.principal = principal;
    if ("authenticated" in rule) return undefined;

    const scope = rule.scope ? rule.scope(request) : {};
    if (canAccess(principal, rule.role, scope)) return undefined;
    request.accessDenied = `needs ${rule.role}`;
    if (rule.hideExistence && !canAccess(principal, "viewer", { namespace: scope.namespace })) {
      return new NotFoundError("not_found", "Not found, or not visible to this token.");
    }
    const where = [
      scope.namespace && `namespace '${scope.namespace}'`,
      scope.environment && `environment '${scope.environment}'`,
    ]
      .filter(Boolean)
      .join(", ");
    return new ForbiddenError(
      "forbidden",
      `This token lacks the '${rule.role}' role${where ? ` for ${where}` : " on every namespace"}.`,
    );
  }

  const audit = options.audit;
  if (!audit) return routes;
  app.addHook("onResponse", (request, reply, done) => {
    done();
    const rule = ruleOf(request);
    if (!rule || request.auditCommitted) return;
    const denied = request.accessDenied !== null;
    const isWrite = !READ_METHODS.has(request.method) && !("public" in rule);
    if (!denied && !isWrite && !request.auditNote) return;
    audit.record(auditEntryOf(request, reply.statusCode));
  });
  return routes;
}

/**
 * The audit line of a request that ends with `status`. A write that stores its line in its own
 * transaction builds it here before answering (and sets `auditCommitted`), so both agree.
 */
export function auditEntryOf(request: FastifyRequest, status: number): AuditEntry {
  const denied = request.accessDenied !== null;
  return {
    actor: request.principal?.subject ?? "anonymous",
    action: request.auditNote?.action ?? `${request.method} ${request.routeOptions.url ?? request.url}`,
    resource: request.url.split("?")[0] ?? request.url,
    outcome: denied ? "denied" : status < 400 ? "allowed" : "failed",
    statusCode: status,
    requestId: request.id,
    ip: request.ip,
    userAgent: request.headers["user-agent"],
    details: {
      // The token's owner or the OIDC user, so the log reads without a lookup.
      ...(request.principal ? { actorName: request.principal.name } : {}),
      ...(request.auditNote?.details ?? {}),
      ...(denied ? { reason: request.accessDenied } : {}),
    },
  };
}
