import type { Principal } from "./auth-types.js";

/**
 * Turns a bearer credential into a principal. `null` means "not a credential we know" (401
 * invalid_token); an expired or revoked credential throws an UnauthorizedError with its own code.
 * A cached answer may come back synchronously (no promise on the hot path).
 */
export interface Authenticator {
  authenticate(credential: string): Principal | null | Promise<Principal | null>;
}

/** API tokens look like `nxs_<id>_<secret>`; anything with two dots is a JWT. */
export const API_TOKEN_PREFIX = "nxs_";

export const looksLikeJwt = (credential: string) => credential.split(".").length === 3;

/**
 * One authenticator over both kinds of credential: API tokens (verified by whoever owns them)
 * and OIDC JWTs (verified locally against the issuer's JWKS). A service without one of them
 * simply refuses that kind.
 */
export function combineAuthenticators(parts: {
  apiTokens?: Authenticator | undefined;
  oidc?: Authenticator | undefined;
}): Authenticator {
  return {
    authenticate(credential) {
      if (credential.startsWith(API_TOKEN_PREFIX)) {
        return parts.apiTokens ? parts.apiTokens.authenticate(credential) : null;
      }
      if (looksLikeJwt(credential) && parts.oidc) return parts.oidc.authenticate(credential);
      return null;
    },
  };
}
