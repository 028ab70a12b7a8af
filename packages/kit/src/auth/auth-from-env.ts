import type { Redis } from "ioredis";
import type { Bus } from "../bus/types.js";
import type { BaseEnv } from "../env.js";
import type { Logger } from "../logger.js";
import { type Authenticator, combineAuthenticators } from "./authenticator.js";
import { createFailedAuthLimiter, type FailedAuthLimiter } from "./failed-auth-limiter.js";
import { createOidcAuthenticator } from "./oidc.js";
import { createRemoteTokenAuthenticator } from "./remote-tokens.js";

type AuthEnv = Pick<
  BaseEnv,
  | "AUTH_TOKEN_KEY"
  | "OIDC_JWKS_URL"
  | "OIDC_ISSUER"
  | "OIDC_AUDIENCE"
  | "OIDC_ROLES_CLAIM"
  | "AUTH_MAX_FAILURES"
  | "AUTH_FAILURE_WINDOW_SECONDS"
>;

/** OIDC JWT verification from OIDC_* variables, or undefined when none is set. */
export function createOidcFromEnv(env: AuthEnv, logger: Logger): Authenticator | undefined {
  const parts = [env.OIDC_JWKS_URL, env.OIDC_ISSUER, env.OIDC_AUDIENCE];
  if (parts.some(Boolean) && !parts.every(Boolean)) {
    throw new Error("OIDC_JWKS_URL, OIDC_ISSUER and OIDC_AUDIENCE must be set together (or none of them)");
  }
  if (!env.OIDC_JWKS_URL || !env.OIDC_ISSUER || !env.OIDC_AUDIENCE) return undefined;
  return createOidcAuthenticator({
    jwksUrl: env.OIDC_JWKS_URL,
    issuer: env.OIDC_ISSUER,
    audience: env.OIDC_AUDIENCE,
    rolesClaim: env.OIDC_ROLES_CLAIM,
    logger,
  });
}

/** The failed-login limiter from AUTH_MAX_FAILURES / AUTH_FAILURE_WINDOW_SECONDS. */
export function createFailedAuthLimiterFromEnv(env: AuthEnv, redis: Redis | null): FailedAuthLimiter {
  return createFailedAuthLimiter({
    redis,
    keyPrefix: "",
    maxFailures: env.AUTH_MAX_FAILURES,
    windowSeconds: env.AUTH_FAILURE_WINDOW_SECONDS,
  });
}

export interface ServiceAuth {
  authenticator: Authenticator;
  failures: FailedAuthLimiter;
  stop(): Promise<void>;
}

/**
 * The authentication every service gets from its environment: OIDC JWTs when configured, API
 * tokens (the registry passes its own store; other services ask the registry over NATS), and
 * the failed-login limiter. Throws a configuration error naming the variables on half-set OIDC.
 */
export function createServiceAuth(deps: {
  env: AuthEnv;
  logger: Logger;
  bus: Bus;
  redis: Redis | null;
  /** The registry's own token store; absent elsewhere, where tokens are checked remotely. */
  apiTokens?: Authenticator;
}): ServiceAuth {
  const { env } = deps;
  const oidc = createOidcFromEnv(env, deps.logger);
  const remote =
    !deps.apiTokens && env.AUTH_TOKEN_KEY
      ? createRemoteTokenAuthenticator({ bus: deps.bus, key: env.AUTH_TOKEN_KEY })
      : undefined;
  if (!deps.apiTokens && !remote && !oidc) {
    deps.logger.warn("no AUTH_TOKEN_KEY and no OIDC settings: every authenticated request will be refused");
  }
  return {
    authenticator: combineAuthenticators({ apiTokens: deps.apiTokens ?? remote, oidc }),
    failures: createFailedAuthLimiterFromEnv(env, deps.redis),
    stop: async () => {
      await remote?.stop();
    },
  };
}
