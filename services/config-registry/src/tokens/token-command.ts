import { AUTH_INTROSPECT_COMMAND, AuthIntrospectCommand, AuthIntrospectReply } from "@nexus/contracts";
import type { Bus, Stoppable } from "@nexus/kit";
import type { TokenService } from "./token-service.js";

/** Other services verify API tokens here (id + keyed digest in, grants out). */
export function serveTokenIntrospection(deps: {
  bus: Bus;
  tokens: Pick<TokenService, "introspect">;
}): Stoppable {
  return deps.bus.serveCommand({
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
}
