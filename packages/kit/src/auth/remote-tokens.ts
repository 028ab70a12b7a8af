import {
  AUTH_INTROSPECT_COMMAND,
  AUTH_TOKEN_REVOKED,
  type AuthIntrospectCommand,
  AuthIntrospectReply,
} from "@nexus/contracts";
import type { Bus, Stoppable } from "../bus/types.js";
import { UnauthorizedError } from "../errors.js";
import { apiTokenDigest, apiTokenId } from "./api-token-fns.js";
import type { Principal } from "./auth-types.js";
import type { Authenticator } from "./authenticator.js";

const CACHE_MS = 10_000;
const MAX_CACHED = 10_000;

export interface RemoteTokenAuthenticator extends Authenticator, Stoppable {}

/**
 * API tokens for services other than the registry (which owns them): asked over NATS with the
 * token's keyed digest (never the token), cached for 10 s, and dropped from the cache the moment
 * a `auth.token-revoked` event arrives.
 */
export function createRemoteTokenAuthenticator(deps: { bus: Bus; key: Buffer }): RemoteTokenAuthenticator {
  const cache = new Map<
    string,
    { digest: string; principal: Principal; until: number; expiresAt: number | null }
  >();
  const revocations = deps.bus.subscribe(AUTH_TOKEN_REVOKED, {}, (event) => {
    cache.delete(event.data.tokenId);
  });

  async function ask(tokenId: string, digest: string): Promise<Principal | null> {
    const command: AuthIntrospectCommand = { schemaVersion: 1, tokenId, digest };
    const reply = await deps.bus.requestCommand(AUTH_INTROSPECT_COMMAND, command, AuthIntrospectReply, 3_000);
    if (!reply.ok) return null;
    if (!reply.active) {
      if (reply.reason === "expired") {
        throw new UnauthorizedError("token_expired", "This token has expired; ask an admin for a new one.");
      }
      if (reply.reason === "revoked") throw new UnauthorizedError("token_revoked", "This token was revoked.");
      return null;
    }
    const principal: Principal = {
      subject: `token:${reply.tokenId}`,
      name: reply.owner,
      kind: "token",
      tokenId: reply.tokenId,
      grants: reply.grants,
    };
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(tokenId, {
      digest,
      principal,
      until: Date.now() + CACHE_MS,
      expiresAt: reply.expiresAt ? Date.parse(reply.expiresAt) : null,
    });
    return principal;
  }

  return {
    authenticate(credential) {
      const tokenId = apiTokenId(credential);
      if (!tokenId) return null;
      const digest = apiTokenDigest(deps.key, credential);
      const now = Date.now();
      const hit = cache.get(tokenId);
      if (hit && hit.digest === digest && hit.until > now) {
        if (hit.expiresAt !== null && hit.expiresAt <= now) {
          cache.delete(tokenId);
          throw new UnauthorizedError("token_expired", "This token has expired; ask an admin for a new one.");
        }
        return hit.principal;
      }
      return ask(tokenId, digest);
    },
    stop: () => revocations.stop(),
  };
}
