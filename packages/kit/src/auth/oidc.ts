import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import { ServiceUnavailableError, UnauthorizedError } from "../errors.js";
import type { Logger } from "../logger.js";
import { parseGrant } from "./access-fns.js";
import type { Grant } from "./auth-types.js";
import type { Authenticator } from "./authenticator.js";

export interface OidcOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Claim holding grants as text (`editor:payments-*:staging`); a string or an array. */
  rolesClaim: string;
  logger: Logger;
}

function claimValues(payload: JWTPayload, claim: string): string[] {
  const value = payload[claim];
  if (typeof value === "string") return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/**
 * How far the identity provider's clock and ours may disagree: a token is still taken this long
 * after its `exp` (and before its `nbf`) by our clock. Clocks kept by NTP agree to milliseconds;
 * 30 s covers a VM resumed from a pause or a host whose NTP has just started, and a token living
 * minutes to hours gains little from it. Past it, a token is refused as expired (401
 * `token_expired`): test/faults/clock-skew.test.ts.
 */
export const OIDC_CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Bearer JWTs from an OIDC provider, verified against its JWKS (fetched and cached by jose,
 * re-fetched when a token names an unknown key id). The roles claim maps onto grants; values
 * that are not grants are ignored with a warning, never guessed at.
 */
export function createOidcAuthenticator(options: OidcOptions): Authenticator {
  const jwks = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3_000 });
  return {
    async authenticate(credential) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(credential, jwks, {
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: OIDC_CLOCK_TOLERANCE_SECONDS,
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) {
          throw new UnauthorizedError("token_expired", "This token has expired; get a new one.");
        }
        if (err instanceof joseErrors.JWKSTimeout || (err as { code?: string }).code === "ECONNREFUSED") {
          throw new ServiceUnavailableError(
            "identity_provider_unreachable",
            "The identity provider's signing keys could not be fetched; try again shortly.",
            { cause: err },
          );
        }
        return null;
      }
      const grants: Grant[] = [];
      for (const text of claimValues(payload, options.rolesClaim)) {
        const grant = parseGrant(text);
        if (grant) grants.push(grant);
        else
          options.logger.warn(
            { claim: options.rolesClaim, value: text },
            "ignoring a role claim that is not a grant",
          );
      }
      const sub = payload.sub ?? "unknown";
      const name = typeof payload.email === "string" ? payload.email : sub;
      return { subject: `oidc:${sub}`, name, kind: "oidc", grants };
    },
  };
}
