import { CONFIG_GET_COMMAND, ConfigGetCommand, ConfigGetReply } from "@nexus/contracts";
import type { Bus } from "@nexus/kit";
import type { ResolveReadService } from "../resolve/resolve-read-service.js";

/**
 * `nexus.config.cmd.get` over NATS request/reply: the resolved document of one (namespace,
 * environment), read the way `GET .../environments/{env}/resolved` reads it, with the same 404
 * codes. `ifNoneMatch` makes it a conditional read (like `If-None-Match`: it skips this process's
 * in-memory cache) and, when it equals the current hash, answers `notModified` without content.
 */
export function serveConfigReadCommands(deps: {
  bus: Pick<Bus, "serveCommand">;
  reads: Pick<ResolveReadService, "get">;
}) {
  return deps.bus.serveCommand({
    subject: CONFIG_GET_COMMAND,
    request: ConfigGetCommand,
    reply: ConfigGetReply,
    queue: "config-registry",
    handler: async (cmd) => {
      const head = await deps.reads.get(cmd.namespace, cmd.environment, {
        conditional: cmd.ifNoneMatch !== undefined,
      });
      const found = {
        ok: true as const,
        namespace: head.namespace,
        environment: head.environment,
        revision: head.revision,
        hash: head.hash,
      };
      if (cmd.ifNoneMatch === head.hash) return { ...found, notModified: true as const };
      // The stored body is the exact HTTP response, rendered at write time from validated data.
      const { content } = JSON.parse(head.body) as { content: Record<string, unknown> };
      return { ...found, notModified: false as const, content };
    },
  });
}
