import { z } from "zod";

export const AUTH_TOKEN_REVOKED = "nexus.auth.token-revoked" as const;

/** API token ids: 16 lowercase hex characters (the part of `nxs_<id>_<secret>` that is not secret). */
export const TokenId = z.string().regex(/^[0-9a-f]{16}$/, "a token id is 16 hex characters");

/**
 * An API token was revoked (or found expired). Every service that caches verified tokens drops it
 * at once, so the token stops working everywhere within the time this event takes to arrive.
 */
export const AuthTokenRevoked = z.object({
  schemaVersion: z.literal(1),
  tokenId: TokenId,
  name: z.string().min(1),
  revokedBy: z.string().min(1),
  reason: z.enum(["revoked", "expired"]),
});
export type AuthTokenRevoked = z.infer<typeof AuthTokenRevoked>;

export const authTokenRevokedSubject = (d: Pick<AuthTokenRevoked, "tokenId">) =>
  `${AUTH_TOKEN_REVOKED}.${d.tokenId}`;
