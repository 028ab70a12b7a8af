import { CONFIG_GET_COMMAND, ConfigGetCommand, ConfigGetReply } from "@nexus/contracts";
import type { Bus } from "@nexus/kit";
import type { ResolveReadService } from "../resolve/resolve-read-service.js";
import { assertSubjectMatchesBody } from "./command-target-fns.js";

/**
 * `nexus.config.cmd.get.<environment>.<namespace>` over NATS request/reply: the resolved document
 * of one (namespace, environment), read the way `GET .../environments/{env}/resolved` reads it,
 * with the same 404 codes. The body must name the subject's target (NATS permissions scope the
 * subject). `ifNoneMatch` makes it a conditional read (like `If-None-Match`: it skips this
 * process's in-memory cache) and, when it equals the current hash, answers `notModified` without
 * content. Documents with secrets come back redacted, as stored.
 */
export function serveConfigReadCommands(deps: {
  bus: Pick<Bus, "serveCommand" | "subject">;
  reads: Pick<ResolveReadService, "get">;
}) {
  const root = deps.bus.subject(CONFIG_GET_COMMAND);
  return deps.bus.serveCommand({
    subject: `${CONFIG_GET_COMMAND}.>`,
    request: ConfigGetCommand,
    reply: ConfigGetReply,
    queue: "config-registry",
    handler: async (cmd, ctx) => {
      assertSubjectMatchesBody(root, ctx.subject, [
        ["environment", cmd.environment],
        ["namespace", cmd.namespace],
      ]);
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
      const { content, secretDigests } = JSON.parse(head.body) as {
        content: Record<string, unknown>;
        secretDigests?: Record<string, string>;
      };
      return { ...found, notModified: false as const, content, ...(secretDigests ? { secretDigests } : {}) };
    },
  });
}
