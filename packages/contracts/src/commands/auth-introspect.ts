import { z } from "zod";
import { TokenId } from "../events/auth-token-revoked.js";
import { GrantDto } from "../http/registry-tokens.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply: is this API token valid, and what may it do? Asked by services other than the
 * registry (which owns tokens). The caller sends the token id and the token's keyed digest
 * (HMAC-SHA256 under the cluster's AUTH_TOKEN_KEY), never the token itself.
 */
export const AUTH_INTROSPECT_COMMAND = "nexus.auth.cmd.introspect" as const;

export const AuthIntrospectCommand = z.object({
  schemaVersion: z.literal(1),
  tokenId: TokenId,
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuthIntrospectCommand = z.infer<typeof AuthIntrospectCommand>;

export const AuthIntrospectReply = z.union([
  z.object({
    ok: z.literal(true),
    active: z.literal(true),
    tokenId: TokenId,
    name: z.string(),
    owner: z.string(),
    grants: z.array(GrantDto),
    expiresAt: z.string().nullable(),
  }),
  z.object({
    ok: z.literal(true),
    active: z.literal(false),
    reason: z.enum(["unknown", "revoked", "expired"]),
  }),
  CommandErrorReply,
]);
export type AuthIntrospectReply = z.infer<typeof AuthIntrospectReply>;
