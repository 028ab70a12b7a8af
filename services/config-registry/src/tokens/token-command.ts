import {
  AUTH_INTROSPECT_COMMAND,
  AUTH_TOKEN_EXPIRIES_COMMAND,
  AuthIntrospectCommand,
  AuthIntrospectReply,
  AuthTokenExpiriesCommand,
  AuthTokenExpiriesReply,
} from "@nexus/contracts";
import type { Bus, Stoppable } from "@nexus/kit";
import type { TokenService } from "./token-service.js";

/**
 * Other services verify API tokens here (id + keyed digest in, grants out), and the monitor asks
 * which active tokens expire soon (names and dates only).
 */
export function serveTokenIntrospection(deps: {
  bus: Bus;
  tokens: Pick<TokenService, "introspect" | "list">;
}): Stoppable {
  const introspection = deps.bus.serveCommand({
    subject: AUTH_INTROSPECT_COMMAND,
    request: AuthIntrospectCommand,
    reply: AuthIntrospectReply,
    queue: "config-registry",
    handler: async (cmd) => {
      const result = await deps.tokens.introspect(cmd.tokenId, cmd.digest);
      if (!result.active) return { ok: true as const, active: false as const, reason: result.reason };
      const t = result.token;
      return {
        ok: true as const,
        active: true as const,
        tokenId: t.id,
        name: t.name,
        owner: t.owner,
        grants: t.grants.map((g) => ({
          ...g,
          namespaces: [...g.namespaces],
          environments: [...g.environments],
        })),
        expiresAt: t.expiresAt?.toISOString() ?? null,
      };
    },
  });
  const expiries = deps.bus.serveCommand({
    subject: AUTH_TOKEN_EXPIRIES_COMMAND,
    request: AuthTokenExpiriesCommand,
    reply: AuthTokenExpiriesReply,
    queue: "config-registry",
    handler: async (cmd) => {
      const until = Date.now() + cmd.withinDays * 86_400_000;
      const tokens = (await deps.tokens.list(false)).filter(
        (t) => t.status === "active" && t.expiresAt !== null && Date.parse(t.expiresAt) <= until,
      );
      return {
        ok: true as const,
        tokens: tokens.map((t) => ({ tokenId: t.id, name: t.name, owner: t.owner, expiresAt: t.expiresAt! })),
      };
    },
  });
  return {
    async stop() {
      await Promise.all([introspection.stop(), expiries.stop()]);
    },
  };
}
