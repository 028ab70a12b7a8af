import { z } from "zod";
import { TokenId } from "../events/auth-token-revoked.js";
import { CommandErrorReply } from "./command-error.js";

/**
 * Request/reply, served by the registry (which owns tokens): the active API tokens that expire
 * within the next `withinDays` days, as names and dates only (no grants, no digests). The monitor
 * asks it for its `token_expiring` alert rule.
 */
export const AUTH_TOKEN_EXPIRIES_COMMAND = "nexus.auth.cmd.token-expiries" as const;

export const AuthTokenExpiriesCommand = z.object({
  schemaVersion: z.literal(1),
  withinDays: z.number().int().min(1).max(3650),
});
export type AuthTokenExpiriesCommand = z.infer<typeof AuthTokenExpiriesCommand>;

export const AuthTokenExpiriesReply = z.union([
  z.object({
    ok: z.literal(true),
    tokens: z.array(
      z.object({
        tokenId: TokenId,
        name: z.string(),
        owner: z.string(),
        expiresAt: z.iso.datetime({ offset: true }),
      }),
    ),
  }),
  CommandErrorReply,
]);
export type AuthTokenExpiriesReply = z.infer<typeof AuthTokenExpiriesReply>;
